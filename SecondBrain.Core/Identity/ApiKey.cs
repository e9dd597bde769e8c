using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Identity;

public static class ApiKeyScopes
{
    /// <summary>Reads only (GET and HEAD).</summary>
    public const string Read = "read";

    /// <summary>Reads and writes, as the user could.</summary>
    public const string Write = "write";

    public static bool IsKnown(string scope) => scope is Read or Write;
}

/// <summary>
/// A personal API key for scripts and bots: acts as its user (with the user's current role), limited by its scopes.
/// Stored only as the SHA-256 of the key; the key itself is shown once, when created.
/// </summary>
public sealed class ApiKey : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public Guid UserId { get; set; }
    public required string Name { get; set; }

    /// <summary>The key's first characters, shown in lists so a person can tell their keys apart.</summary>
    public required string Prefix { get; set; }

    public required byte[] KeyHash { get; set; }
    public required string[] Scopes { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
