using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Search.Answers;

/// <summary>
/// A numbered source of an answer, with what a client needs to open and highlight it: the document, the chunk's
/// position, the sentence quoted (for extractive answers) and where to fetch the document's text with chunk offsets.
/// </summary>
public sealed record Citation(
    int Number,
    Guid ChunkId,
    Guid DocumentId,
    string Title,
    string Source,
    string? Section,
    int? Page,
    string Excerpt,
    int Position = 0,
    string? Quote = null,
    string? ContentUrl = null);

/// <summary>A document close to the question, listed when nothing in the corpus answers it.</summary>
public sealed record RelatedDocument(Guid DocumentId, string Title, string Source, string ContentUrl);

public static class AnswerModes
{
    public const string Extractive = "extractive";
    public const string Llm = "llm";

    /// <summary>Nothing retrieved answers the question: the answer says so and lists the closest documents.</summary>
    public const string NoAnswer = "no_answer";
}

/// <summary>Every answer given (ask or conversation), for feedback and the tenant's usage report.</summary>
public sealed class AnswerRecord : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public Guid? UserId { get; set; }
    public required string Question { get; set; }
    public required string RetrievalQuestion { get; set; }
    public required string Mode { get; set; }
    public int CitationCount { get; set; }

    /// <summary>"ask" or "conversation".</summary>
    public required string Origin { get; set; }
    public Guid? ConversationId { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}
