using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Identity;

/// <summary>
/// One refresh token, stored only as its SHA-256. Rotation creates a new row in the same family and marks this one
/// replaced; presenting a replaced token again means it leaked, so the whole family is revoked.
/// </summary>
public sealed class RefreshSession : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public Guid UserId { get; set; }
    public Guid FamilyId { get; set; }
    public required byte[] TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public string? RevokedReason { get; set; }
    public Guid? ReplacedBySessionId { get; set; }
    public string? CreatedByInstance { get; set; }
}
