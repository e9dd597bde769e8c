using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Knowledge;

public static class EntityTypes
{
    public const string Person = "person";
    public const string Organization = "organization";
    public const string Project = "project";
    public const string System = "system";
    public const string Acronym = "acronym";
    public const string Term = "term";

    /// <summary>What an ownership or decision is about when no project, system or term names it ("the certificate renewal").</summary>
    public const string Topic = "topic";

    public static readonly IReadOnlyList<string> All = [Person, Organization, Project, System, Acronym, Term, Topic];
}

/// <summary>A person, organisation, project, system, acronym or term of one tenant; names reach it through aliases.</summary>
public sealed class KnowledgeEntity : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public required string Type { get; set; }
    public required string Name { get; set; }
    public string? Email { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>
/// A name an entity goes by, unique per tenant by its normalised key, so a name means one entity. Normalisation
/// looks names up here: exactly by key, then by trigram similarity (pg_trgm).
/// </summary>
public sealed class EntityAlias : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public Guid EntityId { get; set; }
    public required string Alias { get; set; }
    public required string Key { get; set; }

    /// <summary>"extracted" or "user": a user's alias (rename, merge) is never taken back by re-extraction.</summary>
    public string Origin { get; set; } = "extracted";
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>Where an entity is named: document, sentence and character offsets in the document's text.</summary>
public sealed class KnowledgeMention : ITenantOwned
{
    public long Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid EntityId { get; set; }
    public Guid DocumentId { get; set; }
    public int SentenceIndex { get; set; }
    public int Start { get; set; }
    public int Length { get; set; }
    public required string Text { get; set; }
    public required string Sentence { get; set; }

    /// <summary>True when the mention is the document's author or a header person (From/To, Slack user).</summary>
    public bool FromHeader { get; set; }
}

public static class RelationTypes
{
    public const string Owns = "owns";
    public const string Decided = "decided";
    public const string WorksOn = "works_on";
    public const string Mentions = "mentions";
}

/// <summary>
/// One piece of evidence for a typed link between two entities (who owns, decided, works on what), kept per document
/// so a document's removal removes exactly its evidence; the API aggregates them into relations with counts.
/// </summary>
public sealed class EntityRelation : ITenantOwned
{
    public long Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid SourceEntityId { get; set; }
    public Guid TargetEntityId { get; set; }
    public required string Type { get; set; }
    public double Confidence { get; set; }
    public Guid DocumentId { get; set; }
    public int SentenceIndex { get; set; }
    public required string Sentence { get; set; }
}

/// <summary>A frame found in a sentence of a document (decision, process, ownership, ...), with slots found and missing.</summary>
public sealed class KnowledgeFrame : ITenantOwned
{
    public long Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid DocumentId { get; set; }
    public required string Type { get; set; }
    public int SentenceIndex { get; set; }
    public required string Sentence { get; set; }
    public required string Trigger { get; set; }
    public bool Negated { get; set; }
    public Dictionary<string, string> Slots { get; set; } = [];
    public List<string> MissingSlots { get; set; } = [];
    public double Confidence { get; set; }
    public string? Author { get; set; }
}

/// <summary>A statement (subject, predicate, value, polarity) kept to cross-check documents against each other.</summary>
public sealed class KnowledgeClaim : ITenantOwned
{
    public long Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid DocumentId { get; set; }
    public required string SubjectKey { get; set; }
    public required string Subject { get; set; }
    public required string Predicate { get; set; }
    public required string Value { get; set; }
    public required string ValueKey { get; set; }
    public required string ValueKind { get; set; }
    public bool Polarity { get; set; } = true;
    public int SentenceIndex { get; set; }
    public required string Sentence { get; set; }
    public string? Author { get; set; }
}

public static class DocumentKnowledgeStatuses
{
    public const string Queued = "queued";

    /// <summary>Claimed by a worker (leased); goes back to queued if the worker lets go or dies.</summary>
    public const string Running = "running";
    public const string Extracted = "extracted";
    public const string Failed = "failed";
}

/// <summary>
/// A document's knowledge state and, while queued, the extraction job: ingestion writes the parsed text here in the
/// same transaction as the chunks, so no document is indexed without its extraction being due.
/// </summary>
public sealed class DocumentKnowledge : ITenantOwned
{
    public Guid DocumentId { get; set; }
    public Guid TenantId { get; set; }
    public int DocumentVersion { get; set; }
    public required string Status { get; set; }

    /// <summary>The parsed text while queued; cleared once extracted.</summary>
    public string? PendingText { get; set; }
    public string? LexiconVersion { get; set; }

    /// <summary>Mail subject without Re:/Fwd:, or Slack channel and thread: what a reply shares with its question.</summary>
    public string? ThreadKey { get; set; }
    public DateTimeOffset QueuedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? ExtractedAt { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }

    /// <summary>New for every claim: the extraction's transaction checks it (a fenced write).</summary>
    public Guid? LeaseToken { get; set; }

    /// <summary>Not claimed before this instant (backoff after a failed attempt).</summary>
    public DateTimeOffset? NotBefore { get; set; }
    public int Attempts { get; set; }
    public string? Error { get; set; }
}
