using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Sync;

public static class SyncRunStatuses
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string ReauthRequired = "reauth_required";

    public static bool IsFinal(string status) => status is Succeeded or Failed or Cancelled or ReauthRequired;
}

/// <summary>
/// One sync or import: the row is the job. Workers claim it with FOR UPDATE SKIP LOCKED, hold a lease renewed by
/// heartbeats, and checkpoint the cursor and counts with every stored page, so another worker resumes after a crash.
/// </summary>
public sealed class SyncRun : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public required string Source { get; set; }
    public Guid? ConnectionId { get; set; }
    public Guid? UploadId { get; set; }
    public required string Status { get; set; }
    public Guid? RequestedByUserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;

    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }

    /// <summary>New for every claim: the write that completes the work checks it, so a worker whose lease was taken over cannot commit.</summary>
    public Guid? LeaseToken { get; set; }
    public DateTimeOffset? HeartbeatAt { get; set; }
    public DateTimeOffset? NotBefore { get; set; }
    public int Attempts { get; set; }

    public string? Cursor { get; set; }
    public int PagesCommitted { get; set; }
    public string? Stage { get; set; }
    public long Found { get; set; }
    public long Processed { get; set; }
    public long Failed { get; set; }
    public long? EstimatedTotal { get; set; }
    public string? PreviousSyncState { get; set; }
    public string? NextSyncState { get; set; }

    public bool CancelRequested { get; set; }
    public string? ErrorCode { get; set; }
    public string? ErrorDetail { get; set; }
}

/// <summary>An item a run could not take, with the reason; the run itself went on.</summary>
public sealed class SyncFailedItem : ITenantOwned
{
    public long Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid RunId { get; set; }
    public required string ExternalId { get; set; }
    public required string Reason { get; set; }
    public DateTimeOffset At { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>An uploaded archive, kept so any worker can import it; its bytes are in blob storage (<see cref="UploadStore.KeyOf"/>).</summary>
public sealed class Upload : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public required string FileName { get; set; }
    public required string ContentType { get; set; }
    public long Size { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}
