using System.ComponentModel.DataAnnotations;
using System.Text;

namespace SecondBrain.Core.Identity;

/// <summary>Access and refresh token settings. The signing key is shared by every instance (an Aspire secret).</summary>
public sealed class JwtOptions : IValidatableObject
{
    public const string SectionName = "Jwt";

    [Required]
    public string Issuer { get; set; } = "secondbrain";

    [Required]
    public string Audience { get; set; } = "secondbrain-api";

    /// <summary>HMAC-SHA256 key; at least 32 bytes of UTF-8.</summary>
    [Required]
    public string SigningKey { get; set; } = "";

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Encoding.UTF8.GetByteCount(SigningKey) < 32)
        {
            yield return new ValidationResult("Jwt:SigningKey must be at least 32 bytes (set the jwt-signing-key parameter).", [nameof(SigningKey)]);
        }

        if (AccessTokenLifetime <= TimeSpan.Zero || AccessTokenLifetime > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult("Jwt:AccessTokenLifetime must be positive and at most one hour.", [nameof(AccessTokenLifetime)]);
        }

        if (RefreshTokenLifetime <= AccessTokenLifetime)
        {
            yield return new ValidationResult("Jwt:RefreshTokenLifetime must be longer than the access token lifetime.", [nameof(RefreshTokenLifetime)]);
        }
    }
}

public sealed class LoginThrottleOptions
{
    public const string SectionName = "Identity:LoginThrottle";

    /// <summary>Failed attempts allowed per account within <see cref="Window"/>, counted across all instances.</summary>
    [Range(1, 1000)]
    public int MaxFailures { get; set; } = 5;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);
}
