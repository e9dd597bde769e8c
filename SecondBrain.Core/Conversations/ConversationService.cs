using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Search;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Conversations;

/// <summary>
/// Conversations in Postgres, private to their user: nothing about one lives in an instance. Sending a question
/// stores it with its standalone rewrite, then the answer as it is written: the assistant's row is created at once
/// and its text saved as it grows, so any instance can show the conversation, or follow an answer still being
/// written (<see cref="FollowAsync"/>), and an answer whose writer died is seen as interrupted.
/// </summary>
public sealed class ConversationService(
    SecondBrainDbContext db,
    TenantContext tenant,
    AskService answers,
    QuestionRewriter rewriter,
    TimeProvider time)
{
    private const int HistoryTurns = 10;
    private static readonly TimeSpan SaveEvery = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(60);

    public static ApiProblem NotFound => ApiProblem.NotFound("The conversation");

    public async Task<Outcome<ConversationSummary>> CreateAsync(CreateConversationRequest request, CancellationToken ct)
    {
        if (new Validation().Check(request.Title is null || request.Title.Trim().Length is > 0 and <= 300, nameof(request.Title), "A title has 1 to 300 characters.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        var now = time.GetUtcNow();
        var conversation = new Conversation
        {
            UserId = tenant.UserId!.Value,
            Title = request.Title?.Trim() ?? "New conversation",
            CreatedAt = now,
            UpdatedAt = now
        };
        db.Conversations.Add(conversation);
        await db.SaveChangesAsync(ct);
        return ConversationSummary.From(conversation);
    }

    public async Task<PagedResult<ConversationSummary>> ListAsync(ConversationQuery query, PageRequest page, CancellationToken ct)
    {
        page = page.Normalized;
        var conversations = Mine().Where(c => c.Archived == (query.Archived ?? false));
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var pattern = "%" + query.Search.Trim().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
            conversations = conversations.Where(c => EF.Functions.ILike(c.Title, pattern));
        }

        var total = await conversations.LongCountAsync(ct);
        var items = await conversations
            .OrderByDescending(c => c.Pinned).ThenByDescending(c => c.LastMessageAt ?? c.CreatedAt).ThenByDescending(c => c.Id)
            .Skip(page.Skip).Take(page.PageSize)
            .ToListAsync(ct);
        return new PagedResult<ConversationSummary>(items.Select(ConversationSummary.From).ToList(), page.Page, page.PageSize, total);
    }

    public async Task<ConversationDetail?> GetAsync(Guid id, CancellationToken ct)
    {
        var conversation = await Mine().SingleOrDefaultAsync(c => c.Id == id, ct);
        if (conversation is null)
        {
            return null;
        }

        var messages = await db.ConversationMessages.AsNoTracking().Where(m => m.ConversationId == id).OrderBy(m => m.Sequence).ToListAsync(ct);
        return new ConversationDetail(ConversationSummary.From(conversation), messages.Select(m => MessageResponse.From(m, StatusOf(m))).ToList());
    }

    public async Task<Outcome<ConversationSummary>> UpdateAsync(Guid id, UpdateConversationRequest request, CancellationToken ct)
    {
        if (new Validation().Check(request.Title is null || request.Title.Trim().Length is > 0 and <= 300, nameof(request.Title), "A title has 1 to 300 characters.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        var conversation = await db.Conversations.SingleOrDefaultAsync(c => c.Id == id && c.UserId == tenant.UserId, ct);
        if (conversation is null)
        {
            return NotFound;
        }

        conversation.Title = request.Title?.Trim() ?? conversation.Title;
        conversation.Pinned = request.Pinned ?? conversation.Pinned;
        conversation.Archived = request.Archived ?? conversation.Archived;
        conversation.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return ConversationSummary.From(conversation);
    }

    public async Task<bool> DeleteAsync(Guid id, CancellationToken ct) =>
        await db.Conversations.Where(c => c.Id == id && c.UserId == tenant.UserId).ExecuteDeleteAsync(ct) > 0;

    /// <summary>
    /// Asks a question in a conversation. Yields the stored question, the citations, the answer's text as it comes and
    /// the stored answer. A follow-up is answered in context: rewritten to a standalone question for retrieval, and, with
    /// a model, answered with the conversation so far.
    /// </summary>
    public async IAsyncEnumerable<ConversationEvent> SendAsync(Guid id, SendMessageRequest request, [EnumeratorCancellation] CancellationToken ct)
    {
        var conversation = await db.Conversations.SingleOrDefaultAsync(c => c.Id == id && c.UserId == tenant.UserId, ct);
        if (conversation is null)
        {
            yield return new ConversationProblem(NotFound);
            yield break;
        }

        if (AskService.Validate(request.Content) is { } invalid)
        {
            yield return new ConversationProblem(invalid);
            yield break;
        }

        var content = request.Content!.Trim();
        var history = await db.ConversationMessages.AsNoTracking().Where(m => m.ConversationId == id)
            .OrderByDescending(m => m.Sequence).Take(HistoryTurns).OrderBy(m => m.Sequence).ToListAsync(ct);
        var turns = history.Select(m => new Turn(m.Role, m.Content, m.RewrittenQuestion)).ToList();
        var rewritten = await rewriter.RewriteAsync(turns, content, ct);

        var now = time.GetUtcNow();
        var next = history.Count == 0 ? 1 : history[^1].Sequence + 1;
        var question = new ConversationMessage { ConversationId = id, Sequence = next, Role = MessageRoles.User, Content = content, RewrittenQuestion = rewritten, CreatedAt = now, UpdatedAt = now };
        var answer = new ConversationMessage { ConversationId = id, Sequence = next + 1, Role = MessageRoles.Assistant, Content = "", Status = MessageStatuses.Streaming, CreatedAt = now, UpdatedAt = now };
        db.ConversationMessages.AddRange(question, answer);
        if (conversation.MessageCount == 0 && conversation.Title == "New conversation")
        {
            conversation.Title = content.Length <= 80 ? content : content[..80].TrimEnd() + "…";
        }

        conversation.MessageCount += 2;
        conversation.LastMessageAt = now;
        conversation.UpdatedAt = now;
        await db.SaveChangesAsync(ct); // a concurrent send on another instance gets a unique violation on (conversation, sequence)
        yield return new QuestionStored(MessageResponse.From(question, MessageStatuses.Complete), answer.Id);

        var chatHistory = history.Select(m => new ChatMessage(m.Role == MessageRoles.User ? ChatRole.User : ChatRole.Assistant, m.Content)).ToList();
        var query = new AnswerQuery(content, rewritten, new AskRequest(content, request.Sources, request.Author, request.From, request.To), chatHistory, "conversation", id);
        var saved = Stopwatch.StartNew();
        try
        {
        await foreach (var e in answers.AnswerAsync(query, ct))
        {
            switch (e)
            {
                case CitationsReady citations:
                    answer.Citations = [.. citations.Citations];
                    yield return new ConversationCitations(citations.Citations);
                    break;
                case AnswerDelta delta:
                    answer.Content += delta.Text;
                    if (saved.Elapsed >= SaveEvery)
                    {
                        answer.UpdatedAt = time.GetUtcNow();
                        await db.SaveChangesAsync(CancellationToken.None);
                        saved.Restart();
                    }

                    yield return new ConversationDelta(delta.Text);
                    break;
                case AnswerDone done:
                    answer.Content = done.Response.Answer;
                    answer.Mode = done.Response.Mode;
                    answer.Citations = [.. done.Response.Citations];
                    answer.Related = [.. done.Response.Related ?? []];
                    answer.AnswerId = done.Response.Id;
                    answer.Status = MessageStatuses.Complete;
                    answer.UpdatedAt = time.GetUtcNow();
                    await db.SaveChangesAsync(CancellationToken.None);
                    yield return new AnswerStored(MessageResponse.From(answer, MessageStatuses.Complete));
                    break;
            }
        }
        }
        finally
        {
            if (answer.Status == MessageStatuses.Streaming)
            {
                // The caller went away or the answer failed: what was written stays, marked as cut short.
                answer.Status = MessageStatuses.Interrupted;
                answer.UpdatedAt = time.GetUtcNow();
                await db.SaveChangesAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// Follows an answer from any instance: the text written so far, then what is added, until it is complete (or its
    /// writer is gone). Read from the row, so it needs nothing from the instance that writes it.
    /// </summary>
    public async IAsyncEnumerable<ConversationEvent> FollowAsync(Guid id, Guid messageId, [EnumeratorCancellation] CancellationToken ct)
    {
        if (!await Mine().AnyAsync(c => c.Id == id, ct))
        {
            yield return new ConversationProblem(NotFound);
            yield break;
        }

        var sent = 0;
        var citationsSent = false;
        while (!ct.IsCancellationRequested)
        {
            var message = await db.ConversationMessages.AsNoTracking().SingleOrDefaultAsync(m => m.Id == messageId && m.ConversationId == id, ct);
            if (message is null)
            {
                yield return new ConversationProblem(ApiProblem.NotFound("The message"));
                yield break;
            }

            if (!citationsSent && message.Citations.Count > 0)
            {
                citationsSent = true;
                yield return new ConversationCitations(message.Citations);
            }

            if (message.Content.Length > sent)
            {
                yield return new ConversationDelta(message.Content[sent..]);
                sent = message.Content.Length;
            }

            var status = StatusOf(message);
            if (status != MessageStatuses.Streaming)
            {
                yield return new AnswerStored(MessageResponse.From(message, status));
                yield break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(300), time, ct);
        }
    }

    private IQueryable<Conversation> Mine() => db.Conversations.AsNoTracking().Where(c => c.UserId == tenant.UserId);

    /// <summary>A row still "streaming" that nobody has written to for a minute lost its writer.</summary>
    private string StatusOf(ConversationMessage message) =>
        message.Status == MessageStatuses.Streaming && time.GetUtcNow() - message.UpdatedAt > StaleAfter ? MessageStatuses.Interrupted : message.Status;
}

public abstract record ConversationEvent;

public sealed record ConversationProblem(ApiProblem Problem) : ConversationEvent;

public sealed record QuestionStored(MessageResponse Question, Guid AnswerMessageId) : ConversationEvent;

public sealed record ConversationCitations(IReadOnlyList<Search.Answers.Citation> Citations) : ConversationEvent;

public sealed record ConversationDelta(string Text) : ConversationEvent;

public sealed record AnswerStored(MessageResponse Answer) : ConversationEvent;
