using System.ComponentModel.DataAnnotations;

namespace SecondBrain.Core.Knowledge;

public sealed class KnowledgeExtractionOptions
{
    public const string SectionName = "Knowledge:Extraction";

    [Range(1, 500)]
    public int BatchSize { get; set; } = 20;

    /// <summary>A claimed batch's lease; renewed every <see cref="RenewInterval"/> while it is worked on.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 5;

    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(2);
}
