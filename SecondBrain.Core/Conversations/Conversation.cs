using SecondBrain.Core.Search.Answers;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Conversations;

/// <summary>A conversation: private to the user who started it, within their tenant.</summary>
public sealed class Conversation : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public Guid UserId { get; set; }
    public required string Title { get; set; }
    public bool Pinned { get; set; }
    public bool Archived { get; set; }
    public int MessageCount { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? LastMessageAt { get; set; }
}

public static class MessageRoles
{
    public const string User = "user";
    public const string Assistant = "assistant";
}

public static class MessageStatuses
{
    /// <summary>The answer is being written; its text grows in the row, so any instance can follow it.</summary>
    public const string Streaming = "streaming";
    public const string Complete = "complete";

    /// <summary>The instance writing it stopped before the end (it died, or the model failed).</summary>
    public const string Interrupted = "interrupted";
}

/// <summary>
/// One turn. A user's message keeps the standalone question it was rewritten to (what retrieval searched for); an
/// assistant's keeps its citations, mode and the answer record it came from (for feedback and usage).
/// </summary>
public sealed class ConversationMessage : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public Guid ConversationId { get; set; }
    public int Sequence { get; set; }
    public required string Role { get; set; }
    public required string Content { get; set; }
    public string? RewrittenQuestion { get; set; }
    public string? Mode { get; set; }
    public List<Citation> Citations { get; set; } = [];
    public List<RelatedDocument> Related { get; set; } = [];
    public Guid? AnswerId { get; set; }
    public string Status { get; set; } = MessageStatuses.Complete;
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
}
