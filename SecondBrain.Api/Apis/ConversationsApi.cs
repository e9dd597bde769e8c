using Microsoft.AspNetCore.Http.HttpResults;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Common;
using SecondBrain.Core.Conversations;

namespace Microsoft.AspNetCore.Builder;

public static class ConversationsApi
{
    public static RouteGroupBuilder MapConversationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/conversations").WithTags("Conversations");

        api.MapPost("/", CreateAsync).WithName("CreateConversation").WithSummary("Start a conversation (yours alone within the tenant).");
        api.MapGet("/", ListAsync).WithName("ListConversations").WithSummary("Your conversations, pinned first, then the latest (paged; search by title, archived).");
        api.MapGet("/{id:guid}", GetAsync).WithName("GetConversation").WithSummary("One conversation with its messages, citations included.");
        api.MapPatch("/{id:guid}", UpdateAsync).WithName("UpdateConversation").WithSummary("Rename, pin or archive.");
        api.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteConversation").WithSummary("Delete a conversation and its messages.");
        api.MapPost("/{id:guid}/messages", SendAsync)
            .RequireRateLimiting(RateLimitPolicies.Tenant)
            .WithName("SendMessage")
            .WithSummary("Ask in the conversation: a follow-up is answered in its context. Accept: text/event-stream streams question, citations, delta and done events.");
        api.MapGet("/{id:guid}/messages/{messageId:guid}/events", FollowAsync)
            .WithName("FollowMessage")
            .WithSummary("Server-Sent Events of an answer being written, from any instance: what is written so far, then the rest, then done.");
        return api;
    }

    public static async Task<Results<Created<ConversationSummary>, ProblemHttpResult>> CreateAsync(
        CreateConversationRequest request, ConversationService conversations, HttpContext http, CancellationToken ct)
    {
        var outcome = await conversations.CreateAsync(request, ct);
        return outcome.Succeeded ? TypedResults.Created($"/api/conversations/{outcome.Value!.Id}", outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Ok<PagedResult<ConversationSummary>>> ListAsync(
        [AsParameters] PageRequest page, ConversationService conversations, CancellationToken ct, string? search = null, bool? archived = null) =>
        TypedResults.Ok(await conversations.ListAsync(new ConversationQuery(search, archived), page, ct));

    public static async Task<Results<Ok<ConversationDetail>, ProblemHttpResult>> GetAsync(Guid id, ConversationService conversations, HttpContext http, CancellationToken ct) =>
        await conversations.GetAsync(id, ct) is { } detail ? TypedResults.Ok(detail) : ConversationService.NotFound.ToHttpResult(http);

    public static async Task<Results<Ok<ConversationSummary>, ProblemHttpResult>> UpdateAsync(
        Guid id, UpdateConversationRequest request, ConversationService conversations, HttpContext http, CancellationToken ct)
    {
        var outcome = await conversations.UpdateAsync(id, request, ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, ConversationService conversations, HttpContext http, CancellationToken ct) =>
        await conversations.DeleteAsync(id, ct) ? TypedResults.NoContent() : ConversationService.NotFound.ToHttpResult(http);

    public static async Task<Results<Ok<ExchangeResponse>, EmptyHttpResult, ProblemHttpResult>> SendAsync(
        Guid id, SendMessageRequest request, ConversationService conversations, HttpContext http, CancellationToken ct)
    {
        var stream = ServerSentEvents.Wanted(http.Request);
        MessageResponse? question = null;
        await foreach (var e in conversations.SendAsync(id, request, ct))
        {
            if (e is ConversationProblem problem)
            {
                // Problems come before anything is written, so they are always a plain problem response.
                return problem.Problem.ToHttpResult(http);
            }

            if (e is QuestionStored stored)
            {
                question = stored.Question;
                if (stream)
                {
                    ServerSentEvents.Start(http);
                    await ServerSentEvents.WriteAsync(http, "question", new { stored.Question, answerMessageId = stored.AnswerMessageId }, ct);
                }

                continue;
            }

            if (e is AnswerStored answer && !stream)
            {
                return TypedResults.Ok(new ExchangeResponse(question!, answer.Answer));
            }

            if (stream)
            {
                await WriteAsync(http, e, ct);
            }
        }

        return TypedResults.Empty;
    }

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> FollowAsync(
        Guid id, Guid messageId, ConversationService conversations, HttpContext http, CancellationToken ct)
    {
        var started = false;
        await foreach (var e in conversations.FollowAsync(id, messageId, ct))
        {
            if (e is ConversationProblem problem)
            {
                return started ? TypedResults.Empty : problem.Problem.ToHttpResult(http);
            }

            if (!started)
            {
                ServerSentEvents.Start(http);
                started = true;
            }

            await WriteAsync(http, e, ct);
        }

        return TypedResults.Empty;
    }

    private static Task WriteAsync(HttpContext http, ConversationEvent e, CancellationToken ct) => e switch
    {
        ConversationCitations c => ServerSentEvents.WriteAsync(http, "citations", c.Citations, ct),
        ConversationDelta d => ServerSentEvents.WriteAsync(http, "delta", new { text = d.Text }, ct),
        AnswerStored a => ServerSentEvents.WriteAsync(http, "done", a.Answer, ct),
        _ => Task.CompletedTask
    };
}
