using System.ComponentModel.DataAnnotations;

namespace SecondBrain.Core.Sync;

public sealed class SyncOptions
{
    public const string SectionName = "Sync";

    /// <summary>A run whose lease is not renewed within this time is taken over by another worker.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Lease renewal and cancel check; cancel is also pushed over Redis and seen at once.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often an idle worker looks for work it was not told about (missed notification, expired lease).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    [Range(1, 64)]
    public int MaxConcurrentRuns { get; set; } = 2;

    /// <summary>Claims of one run before it is failed for good (transient provider failures requeue it with backoff).</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 8;

    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Largest archive accepted by the import endpoints.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 256L * 1024 * 1024;
}
