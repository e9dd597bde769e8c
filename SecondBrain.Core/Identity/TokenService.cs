using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SecondBrain.Core.Identity;

public static class SecondBrainClaims
{
    public const string TenantId = "tid";
    public const string Role = "role";
    public const string Email = "email";
    public const string Name = "name";

    /// <summary>"true" on an operator's token: a deployment-named role no tenant can grant.</summary>
    public const string Operator = "op";

    /// <summary>The refresh-session family the token belongs to: revoking the session ends its access tokens too.</summary>
    public const string Session = "sid";

    /// <summary>Issued-at in milliseconds: <c>iat</c> has whole seconds, too coarse to order a token against a revocation.</summary>
    public const string IssuedAtMs = "iat_ms";
}

public sealed record AccessToken(string Token, DateTimeOffset ExpiresAt);

/// <summary>Issues access tokens and creates and hashes opaque refresh tokens.</summary>
public sealed class TokenService(IOptions<JwtOptions> options, IOptionsMonitor<OperatorOptions> operators, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new();

    public static SymmetricSecurityKey CreateSigningKey(JwtOptions options) => new(Encoding.UTF8.GetBytes(options.SigningKey));

    public AccessToken CreateAccessToken(User user, Guid? sessionFamily = null)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var expires = now.Add(o.AccessTokenLifetime);
        var claims = new List<Claim>
        {
            new(JwtRegisteredClaimNames.Sub, user.Id.ToString()),
            new(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString("N")),
            new(SecondBrainClaims.TenantId, user.TenantId.ToString()),
            new(SecondBrainClaims.Role, user.Role),
            new(SecondBrainClaims.Email, user.Email),
            new(SecondBrainClaims.Name, user.DisplayName),
            new(SecondBrainClaims.IssuedAtMs, now.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), ClaimValueTypes.Integer64)
        };
        if (sessionFamily is { } family)
        {
            claims.Add(new Claim(SecondBrainClaims.Session, family.ToString()));
        }

        if (operators.CurrentValue.IsOperator(user.Email))
        {
            claims.Add(new Claim(SecondBrainClaims.Operator, "true"));
        }

        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = o.Issuer,
            Audience = o.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(CreateSigningKey(o), SecurityAlgorithms.HmacSha256),
            Subject = new ClaimsIdentity(claims)
        });
        return new AccessToken(token, expires);
    }

    /// <summary>A new refresh token (32 random bytes, base64url) and the hash under which it is stored.</summary>
    public static (string Token, byte[] Hash) CreateRefreshToken()
    {
        var token = OpaqueToken.New();
        return (token, OpaqueToken.Hash(token));
    }

    public static byte[] HashRefreshToken(string token) => OpaqueToken.Hash(token);
}
