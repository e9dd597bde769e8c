using System.ComponentModel.DataAnnotations;

namespace SecondBrain.Core.Ingestion;

public sealed class IngestionOptions
{
    public const string SectionName = "Ingestion";

    /// <summary>Jobs claimed at once; their chunks are embedded together, which is what makes ingestion fast.</summary>
    [Range(1, 512)]
    public int BatchSize { get; set; } = 32;

    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 5;

    public ChunkingOptions Chunking { get; set; } = new();
}
