using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Identity;

/// <summary>A single-use, expiring password reset, stored only as the SHA-256 of the token mailed to the user.</summary>
public sealed class PasswordResetToken : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public Guid UserId { get; set; }
    public required byte[] TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? UsedAt { get; set; }
}
