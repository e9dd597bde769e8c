using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SecondBrain.Core.Common;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Identity;

namespace SecondBrain.Tests.Unit;

public sealed class IdentityTests
{
    private static readonly JwtOptions Options = new() { SigningKey = "unit-test-signing-key-of-enough-length-0123456789" };

    [Fact]
    public async Task Access_token_carries_tenant_role_and_subject_and_validates_with_the_shared_key()
    {
        var user = new User
        {
            TenantId = Guid.NewGuid(), Email = "a@b.test", NormalizedEmail = "A@B.TEST", DisplayName = "A", PasswordHash = "x", Role = Roles.Admin
        };
        var token = new TokenService(Microsoft.Extensions.Options.Options.Create(Options), Operators(), TimeProvider.System).CreateAccessToken(user);

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token.Token, new TokenValidationParameters
        {
            ValidIssuer = Options.Issuer,
            ValidAudience = Options.Audience,
            IssuerSigningKey = TokenService.CreateSigningKey(Options)
        });

        Assert.True(result.IsValid, result.Exception?.Message);
        Assert.Equal(user.Id.ToString(), result.Claims[JwtRegisteredClaimNames.Sub]);
        Assert.Equal(user.TenantId.ToString(), result.Claims[SecondBrainClaims.TenantId]);
        Assert.Equal(Roles.Admin, result.Claims[SecondBrainClaims.Role]);
        Assert.InRange(token.ExpiresAt - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(14), TimeSpan.FromMinutes(15));
    }

    [Fact]
    public async Task Only_an_address_the_deployment_names_gets_the_operator_claim_whatever_its_tenant_role()
    {
        var service = new TokenService(Microsoft.Extensions.Options.Options.Create(Options), Operators("Ops@Fleet.test"), TimeProvider.System);
        var handler = new JsonWebTokenHandler();
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = Options.Issuer,
            ValidAudience = Options.Audience,
            IssuerSigningKey = TokenService.CreateSigningKey(Options)
        };

        var op = new User { TenantId = Guid.NewGuid(), Email = "ops@fleet.test", NormalizedEmail = "OPS@FLEET.TEST", DisplayName = "Ops", PasswordHash = "x", Role = Roles.Member };
        var admin = new User { TenantId = Guid.NewGuid(), Email = "boss@tenant.test", NormalizedEmail = "BOSS@TENANT.TEST", DisplayName = "Boss", PasswordHash = "x", Role = Roles.Admin };

        var opClaims = (await handler.ValidateTokenAsync(service.CreateAccessToken(op).Token, parameters)).Claims;
        var adminClaims = (await handler.ValidateTokenAsync(service.CreateAccessToken(admin).Token, parameters)).Claims;
        Assert.Equal("true", opClaims[SecondBrainClaims.Operator]);
        Assert.False(adminClaims.ContainsKey(SecondBrainClaims.Operator));
    }

    private static Microsoft.Extensions.Options.IOptionsMonitor<OperatorOptions> Operators(params string[] emails) =>
        new FixedOptions<OperatorOptions>(new OperatorOptions { Accounts = [.. emails.Select(e => new OperatorAccount { Email = e })] });

    private sealed class FixedOptions<T>(T value) : Microsoft.Extensions.Options.IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }

    [Fact]
    public async Task A_token_signed_with_another_key_is_rejected()
    {
        var user = new User { TenantId = Guid.NewGuid(), Email = "a@b.test", NormalizedEmail = "A@B.TEST", DisplayName = "A", PasswordHash = "x", Role = Roles.Member };
        var other = new JwtOptions { SigningKey = "a-different-signing-key-also-long-enough-987654" };
        var token = new TokenService(Microsoft.Extensions.Options.Options.Create(other), Operators(), TimeProvider.System).CreateAccessToken(user);

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token.Token, new TokenValidationParameters
        {
            ValidIssuer = Options.Issuer,
            ValidAudience = Options.Audience,
            IssuerSigningKey = TokenService.CreateSigningKey(Options)
        });
        Assert.False(result.IsValid);
    }

    [Fact]
    public void Refresh_tokens_are_random_and_stored_only_as_their_hash()
    {
        var (a, hashA) = TokenService.CreateRefreshToken();
        var (b, _) = TokenService.CreateRefreshToken();
        Assert.NotEqual(a, b);
        Assert.True(a.Length >= 43, "32 random bytes, base64url");
        Assert.Equal(hashA, TokenService.HashRefreshToken(a));
        Assert.Equal(32, hashA.Length);
    }

    [Fact]
    public void Jwt_options_reject_a_short_key_and_odd_lifetimes()
    {
        var context = new System.ComponentModel.DataAnnotations.ValidationContext(new object());
        Assert.NotEmpty(new JwtOptions { SigningKey = "short" }.Validate(context));
        Assert.NotEmpty(new JwtOptions { SigningKey = Options.SigningKey, AccessTokenLifetime = TimeSpan.FromHours(3) }.Validate(context));
        Assert.NotEmpty(new JwtOptions { SigningKey = Options.SigningKey, RefreshTokenLifetime = TimeSpan.FromMinutes(1) }.Validate(context));
        Assert.Empty(new JwtOptions { SigningKey = Options.SigningKey }.Validate(context));
    }

    [Fact]
    public void Validation_collects_every_field_error_under_its_camel_case_name()
    {
        var problem = new Validation()
            .Require("TenantName", " ")
            .Email("Email", "not an email")
            .Password("Password", "short")
            .Require("DisplayName", "ok")
            .ToProblem();

        Assert.NotNull(problem);
        Assert.Equal(400, problem.Status);
        Assert.Equal(ProblemCodes.ValidationFailed, problem.Code);
        Assert.Equal(["email", "password", "tenantName"], problem.Errors!.Keys.Order().ToArray());
        Assert.Null(new Validation().Email("Email", "someone@example.com").Password("Password", "long enough").ToProblem());
    }

    [Theory]
    [InlineData(400, "bad_request")]
    [InlineData(401, "unauthorized")]
    [InlineData(403, "forbidden")]
    [InlineData(404, "not_found")]
    [InlineData(405, "method_not_allowed")]
    [InlineData(409, "conflict")]
    [InlineData(413, "request_too_large")]
    [InlineData(429, "too_many_requests")]
    [InlineData(500, "internal_error")]
    [InlineData(502, "internal_error")]
    public void Every_failure_status_has_a_stable_code(int status, string code) => Assert.Equal(code, ProblemCodes.ForStatus(status));

    [Theory]
    [InlineData(0, 0, 1, 1)]
    [InlineData(3, 500, 3, 200)]
    [InlineData(-2, 20, 1, 20)]
    public void Page_requests_are_clamped(int page, int size, int expectedPage, int expectedSize)
    {
        var normalized = new PageRequest(page, size).Normalized;
        Assert.Equal(expectedPage, normalized.Page);
        Assert.Equal(expectedSize, normalized.PageSize);
    }
}
