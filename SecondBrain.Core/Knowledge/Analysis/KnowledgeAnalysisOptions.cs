using System.ComponentModel.DataAnnotations;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>Tenant-level analysis: how runs are leased, when ingestion counts as settled, and the detectors' bounds.</summary>
public sealed class KnowledgeAnalysisOptions
{
    public const string SectionName = "Knowledge:Analysis";

    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often an idle worker looks for queued runs (a Redis signal wakes it sooner).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Start an analysis by itself once a tenant's ingestion and extraction have settled.</summary>
    public bool AnalyzeWhenSettled { get; set; } = true;

    /// <summary>How long after the newest extraction (with nothing left queued) a tenant counts as settled.</summary>
    public TimeSpan SettleDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Documents extracted this long before the previous run's watermark are examined again: an extraction stamps its
    /// time before it commits, so one committed late could otherwise fall behind the watermark unseen. Re-examining is
    /// harmless (gaps are upserted by fingerprint).
    /// </summary>
    public TimeSpan WatermarkOverlap { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a run waits for the tenant's analysis lock before handing the run back.</summary>
    public TimeSpan LockWait { get; set; } = TimeSpan.FromSeconds(10);

    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Wait before a failed run is tried again, times its attempts.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>At most this many candidates per gap type and run: memory stays bounded whatever the tenant's size.</summary>
    [Range(1, 5000)]
    public int MaxCandidatesPerType { get; set; } = 200;

    [Range(1, 50)]
    public int MaxEvidencePerGap { get; set; } = 12;

    /// <summary>Frames below this confidence (weak triggers, few slots) are not reported as gaps.</summary>
    [Range(0.0, 1.0)]
    public double MinFrameConfidence { get; set; } = 0.55;

    /// <summary>Bus factor: a person who alone owns at least this many distinct things.</summary>
    [Range(2, 100)]
    public int BusFactorMinItems { get; set; } = 5;

    /// <summary>Undefined term: used in at least this many documents ...</summary>
    [Range(1, 100)]
    public int UndefinedTermMinDocuments { get; set; } = 2;

    /// <summary>... and at least this many times in all.</summary>
    [Range(1, 1000)]
    public int UndefinedTermMinMentions { get; set; } = 2;

    /// <summary>Single source: another document restates a sentence when its trigram similarity reaches this.</summary>
    [Range(0.1, 1.0)]
    public double RestatementSimilarity { get; set; } = 0.5;

    /// <summary>The LLM refining a gap's wording gets this long before the template text is kept.</summary>
    public TimeSpan LlmTimeout { get; set; } = TimeSpan.FromSeconds(20);
}
