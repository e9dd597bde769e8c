using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Integrations;

public static class ConnectionStatuses
{
    public const string Connected = "connected";
    public const string ReauthRequired = "reauth_required";
    public const string Disconnected = "disconnected";
}

/// <summary>A tenant's link to one provider. Tokens are stored only encrypted with the shared Data Protection key ring.</summary>
public sealed class Connection : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public required string Provider { get; set; }
    public required string Status { get; set; }
    public string? ProtectedTokens { get; set; }
    public DateTimeOffset? AccessTokenExpiresAt { get; set; }
    public string? AccountLabel { get; set; }
    public Guid? ConnectedByUserId { get; set; }
    public DateTimeOffset ConnectedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? TokensRefreshedAt { get; set; }
    public string? LastError { get; set; }

    /// <summary>Where the next incremental sync starts (Gmail historyId, Box stream position, Slack per-channel ts).</summary>
    public string? SyncState { get; set; }

    public DateTimeOffset? LastSyncedAt { get; set; }
}
