using Microsoft.AspNetCore.Http.HttpResults;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Feedback;

namespace Microsoft.AspNetCore.Builder;

public static class FeedbackApi
{
    public static IEndpointRouteBuilder MapFeedbackApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/answers").WithTags("Feedback")
            .MapPost("/{id:guid}/feedback", RateAnswerAsync)
            .WithName("RateAnswer")
            .WithSummary("Thumbs up or down on an answer (ask or conversation), with an optional comment; giving it again replaces it.");
        app.MapGroup("/api/knowledge/gaps").WithTags("Feedback")
            .MapPost("/{id:guid}/feedback", RateGapAsync)
            .WithName("RateGap")
            .WithSummary("Useful or not on a gap; a gap found not useful is dismissed and not raised again by re-analysis.");
        app.MapGroup("/api/admin").WithTags("Admin").RequireAuthorization(AuthenticationSetup.AdminPolicy)
            .MapGet("/usage", UsageAsync)
            .WithName("Usage")
            .WithSummary("Questions per day, questions nothing answered, top questions, feedback ratios (last `days`, default 30).");
        return app;
    }

    public static async Task<Results<Ok<FeedbackResponse>, ProblemHttpResult>> RateAnswerAsync(
        Guid id, AnswerFeedbackRequest request, FeedbackService feedback, HttpContext http, CancellationToken ct)
    {
        var outcome = await feedback.RateAnswerAsync(id, request, ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<Ok<FeedbackResponse>, ProblemHttpResult>> RateGapAsync(
        Guid id, GapFeedbackRequest request, FeedbackService feedback, HttpContext http, CancellationToken ct)
    {
        var outcome = await feedback.RateGapAsync(id, request, ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Ok<UsageResponse>> UsageAsync(UsageReport usage, CancellationToken ct, int days = 30) =>
        TypedResults.Ok(await usage.BuildAsync(days, ct));
}
