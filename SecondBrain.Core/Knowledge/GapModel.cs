using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Knowledge;

public static class GapTypes
{
    public const string MissingRationale = "missing_rationale";
    public const string MissingOwner = "missing_owner";
    public const string MissingTime = "missing_time";
    public const string UndefinedTerm = "undefined_term";
    public const string Contradiction = "contradiction";
    public const string SingleSource = "single_source";
    public const string BusFactor = "bus_factor";
    public const string UnansweredQuestion = "unanswered_question";

    public static readonly IReadOnlyList<string> All =
        [MissingRationale, MissingOwner, MissingTime, UndefinedTerm, Contradiction, SingleSource, BusFactor, UnansweredQuestion];
}

public static class GapStatuses
{
    public const string Open = "open";
    public const string InProgress = "in_progress";
    public const string Answered = "answered";
    public const string Verified = "verified";
    public const string Dismissed = "dismissed";

    public static readonly IReadOnlyList<string> All = [Open, InProgress, Answered, Verified, Dismissed];
}

/// <summary>
/// A knowledge gap. The fingerprint (type + what the gap is about, not its wording) is unique per tenant, so a
/// re-analysis updates the gap it found before instead of adding another; a user's status survives re-analysis.
/// </summary>
public sealed class KnowledgeGap : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public required string Fingerprint { get; set; }
    public required string Type { get; set; }
    public required string Title { get; set; }
    public required string Description { get; set; }
    public List<GapEvidence> Evidence { get; set; } = [];
    public List<Guid> EntityIds { get; set; } = [];
    public int Priority { get; set; }
    public double Confidence { get; set; }
    public List<string> Questions { get; set; } = [];
    public string Status { get; set; } = GapStatuses.Open;
    public Guid? LastRunId { get; set; }
    public int TimesDetected { get; set; } = 1;

    /// <summary>Set when the latest analysis no longer finds the gap (its evidence changed or was deleted).</summary>
    public bool Resolved { get; set; }
    public Guid? AnswerDocumentId { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
}

public sealed record GapEvidence(Guid DocumentId, string DocumentTitle, string Quote, string? Author);

/// <summary>An answer given to a gap; its text is also a document, so search and ask find it.</summary>
public sealed class GapAnswer : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public Guid GapId { get; set; }
    public required string Text { get; set; }
    public Guid? AuthorUserId { get; set; }
    public Guid DocumentId { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}

public static class AnalysisRunStatuses
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    public static bool IsFinal(string status) => status is Succeeded or Failed;
}

/// <summary>
/// One tenant-level analysis; the row is the job, claimed and leased like a sync run. At most one queued or running
/// run per tenant (a partial unique index), and the run holds the tenant's analysis lock while it works.
/// </summary>
public sealed class KnowledgeAnalysisRun : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public required string Status { get; set; }

    /// <summary>"api" or "ingestion_settled".</summary>
    public required string Trigger { get; set; }
    public Guid? RequestedByUserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }

    /// <summary>New for every claim: stage and final writes check it, so a run taken over cannot report.</summary>
    public Guid? LeaseToken { get; set; }

    /// <summary>Not claimed before this instant (backoff after a failed attempt).</summary>
    public DateTimeOffset? NotBefore { get; set; }
    public int Attempts { get; set; }

    /// <summary>Documents extracted after this instant are what the run re-examines (the previous run's watermark).</summary>
    public DateTimeOffset? Since { get; set; }

    /// <summary>The newest extraction the run saw: the next run's <see cref="Since"/>.</summary>
    public DateTimeOffset? Watermark { get; set; }
    public string? Stage { get; set; }
    public int DocumentsExamined { get; set; }
    public int GapsOpened { get; set; }
    public int GapsUpdated { get; set; }
    public int GapsResolved { get; set; }
    public string? ErrorCode { get; set; }
    public string? ErrorDetail { get; set; }
}
