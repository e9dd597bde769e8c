using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SecondBrain.Core.Identity;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Api.Infrastructure;

internal static class AuthenticationSetup
{
    public const string AdminPolicy = "admin";

    private const string BearerScheme = "Bearer-or-ApiKey";

    /// <summary>Fleet-wide endpoints: operators named by the deployment, never a tenant's admin.</summary>
    public const string OperatorPolicy = "operator";

    public static IServiceCollection AddSecondBrainAuthentication(this IServiceCollection services)
    {
        // One bearer header, two kinds of credential: a personal API key (sbk_...) or an access token.
        services.AddAuthentication(BearerScheme)
            .AddPolicyScheme(BearerScheme, "Access token or API key", o => o.ForwardDefaultSelector = context =>
                ApiKeyAuthenticationHandler.PresentedKey(context.Request) is not null ? ApiKeyAuthenticationHandler.SchemeName : JwtBearerDefaults.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtOptions>>((bearer, jwt) =>
            {
                bearer.MapInboundClaims = false;
                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = jwt.Value.Issuer,
                    ValidAudience = jwt.Value.Audience,
                    IssuerSigningKey = TokenService.CreateSigningKey(jwt.Value),
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    NameClaimType = SecondBrainClaims.Name,
                    RoleClaimType = SecondBrainClaims.Role,
                    ClockSkew = TimeSpan.FromSeconds(30)
                };
                bearer.Events = new JwtBearerEvents { OnTokenValidated = OnTokenValidatedAsync };
            });

        // Everything needs a signed-in user unless it says otherwise (signup, login, refresh, health, API docs).
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(AdminPolicy, policy => policy.RequireAuthenticatedUser().RequireRole(Roles.Admin))
            .AddPolicy(OperatorPolicy, policy => policy.RequireAuthenticatedUser().RequireClaim(SecondBrainClaims.Operator, "true"));

        return services;
    }

    // The one place a request's tenant is decided: from the validated token, never from a header or the URL.
    private static async Task OnTokenValidatedAsync(TokenValidatedContext context)
    {
        var principal = context.Principal!;
        if (!Guid.TryParse(principal.FindFirst(SecondBrainClaims.TenantId)?.Value, out var tenantId)
            || !Guid.TryParse(principal.FindFirst(JwtRegisteredClaimNames.Sub)?.Value, out var userId))
        {
            context.Fail("The access token has no tenant or subject.");
            return;
        }

        var jti = principal.FindFirst(JwtRegisteredClaimNames.Jti)?.Value;
        Guid? family = Guid.TryParse(principal.FindFirst(SecondBrainClaims.Session)?.Value, out var sid) ? sid : null;
        var issuedAt = long.TryParse(principal.FindFirst(SecondBrainClaims.IssuedAtMs)?.Value, out var iatMs) ? DateTimeOffset.FromUnixTimeMilliseconds(iatMs) : DateTimeOffset.MinValue;
        var revocations = context.HttpContext.RequestServices.GetRequiredService<AccessTokenRevocations>();
        if (await revocations.IsRevokedAsync(jti, family, userId, issuedAt))
        {
            context.Fail("The access token was revoked.");
            return;
        }

        context.HttpContext.RequestServices.GetRequiredService<TenantContext>().Set(tenantId, userId);
    }
}
