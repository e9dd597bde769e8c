using System.ComponentModel.DataAnnotations;

namespace SecondBrain.Core.AI;

public sealed class EmbeddingOptions
{
    public const string SectionName = "Embeddings";

    /// <summary>Vectors kept in process (about 1.6 KB each at 384 dimensions, so 20,000 is about 35 MB).</summary>
    [Range(1, 10_000_000)]
    public int L1Capacity { get; set; } = 20_000;

    /// <summary>How long Redis keeps a vector after it was computed.</summary>
    public TimeSpan L2TimeToLive { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// How long one instance may hold the right to compute a text; another instance that wants the same text waits
    /// this long for the result before computing it itself.
    /// </summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most texts sent to the generator in one call.</summary>
    [Range(1, 2048)]
    public int BatchSize { get; set; } = 128;
}
