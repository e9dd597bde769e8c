using System.ComponentModel.DataAnnotations;

namespace SecondBrain.Core.Knowledge;

public sealed class KnowledgeExtractionOptions
{
    public const string SectionName = "Knowledge:Extraction";

    [Range(1, 500)]
    public int BatchSize { get; set; } = 20;

    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 5;
}
