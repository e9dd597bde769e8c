using System.ComponentModel.DataAnnotations;

namespace SecondBrain.Core.Ingestion;

public sealed class IngestionOptions
{
    public const string SectionName = "Ingestion";

    /// <summary>Jobs claimed at once; their chunks are embedded together, which is what makes ingestion fast.</summary>
    [Range(1, 512)]
    public int BatchSize { get; set; } = 32;

    /// <summary>A claimed batch's lease; renewed every <see cref="RenewInterval"/> while it is worked on.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Failed attempts (of the work itself, never an outage) before a document ends failed.</summary>
    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Wait before a failed document is tried again, times its attempts.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(2);

    public ChunkingOptions Chunking { get; set; } = new();
}
