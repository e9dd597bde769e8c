using SecondBrain.Core.Search.Answers;

namespace SecondBrain.Core.Conversations;

public sealed record CreateConversationRequest(string? Title);

public sealed record UpdateConversationRequest(string? Title, bool? Pinned, bool? Archived);

/// <summary>A question in a conversation, with the same filters as <c>POST /api/ask</c>.</summary>
public sealed record SendMessageRequest(string? Content, IReadOnlyList<string>? Sources = null, string? Author = null, DateTimeOffset? From = null, DateTimeOffset? To = null);

public sealed record ConversationSummary(
    Guid Id,
    string Title,
    bool Pinned,
    bool Archived,
    int MessageCount,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastMessageAt)
{
    public static ConversationSummary From(Conversation c) => new(c.Id, c.Title, c.Pinned, c.Archived, c.MessageCount, c.CreatedAt, c.UpdatedAt, c.LastMessageAt);
}

public sealed record MessageResponse(
    Guid Id,
    int Sequence,
    string Role,
    string Content,
    string? RewrittenQuestion,
    string? Mode,
    IReadOnlyList<Citation> Citations,
    IReadOnlyList<RelatedDocument> Related,
    Guid? AnswerId,
    string Status,
    DateTimeOffset CreatedAt)
{
    public static MessageResponse From(ConversationMessage m, string status) =>
        new(m.Id, m.Sequence, m.Role, m.Content, m.RewrittenQuestion, m.Mode, m.Citations, m.Related, m.AnswerId, status, m.CreatedAt);
}

public sealed record ConversationDetail(ConversationSummary Conversation, IReadOnlyList<MessageResponse> Messages);

/// <summary>The question as stored and the answer to it.</summary>
public sealed record ExchangeResponse(MessageResponse Question, MessageResponse Answer);

public sealed record ConversationQuery(string? Search, bool? Archived);
