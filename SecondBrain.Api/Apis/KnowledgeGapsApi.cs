using Microsoft.AspNetCore.Http.HttpResults;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Common;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Knowledge.Analysis;
using SecondBrain.Core.Knowledge.Gaps;

namespace Microsoft.AspNetCore.Builder;

public static class KnowledgeGapsApi
{
    public static RouteGroupBuilder MapKnowledgeGapsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/knowledge").WithTags("Knowledge gaps");

        api.MapPost("/analyze", StartAnalysisAsync)
            .WithName("StartKnowledgeAnalysis")
            .WithSummary("Analyse the tenant's knowledge for gaps: 202 with the run (the active one if a run is already queued or running).");
        api.MapGet("/analyze/runs", ListRunsAsync)
            .WithName("ListKnowledgeAnalysisRuns")
            .WithSummary("The tenant's analysis runs, newest first (filter: status).");
        api.MapGet("/analyze/runs/{id:guid}", GetRunAsync)
            .WithName("GetKnowledgeAnalysisRun")
            .WithSummary("One analysis run: status, stage and counts.");
        api.MapGet("/gaps", ListGapsAsync)
            .WithName("ListKnowledgeGaps")
            .WithSummary("Knowledge gaps by priority then confidence; filters: type, status, entity, minPriority, includeResolved.");
        api.MapGet("/gaps/{id:guid}", GetGapAsync)
            .WithName("GetKnowledgeGap")
            .WithSummary("One gap with its evidence, related entities, questions and answers.");
        api.MapPatch("/gaps/{id:guid}", UpdateGapAsync)
            .WithName("UpdateKnowledgeGap")
            .WithSummary("Set a gap's status: open, in_progress, answered, verified or dismissed (kept across re-analysis).");
        api.MapPost("/gaps/{id:guid}/answers", AnswerGapAsync)
            .WithName("AnswerKnowledgeGap")
            .WithSummary("Answer a gap: the answer is stored and ingested as a document (search and ask find it); the gap becomes answered.");
        api.MapGet("/stats", StatsAsync)
            .WithName("GetKnowledgeStats")
            .WithSummary("Entities by type, open gaps by type and status, documents extracted and queued, the last analysis run.");
        return api;
    }

    public static async Task<Accepted<KnowledgeAnalysisRunResponse>> StartAnalysisAsync(KnowledgeAnalysisService analyses, CancellationToken ct)
    {
        var run = await analyses.StartAsync(ct);
        return TypedResults.Accepted($"/api/knowledge/analyze/runs/{run.Id}", run);
    }

    public static async Task<Ok<PagedResult<KnowledgeAnalysisRunResponse>>> ListRunsAsync(
        KnowledgeAnalysisService analyses, CancellationToken ct, int page = 1, int pageSize = 50, string? status = null) =>
        TypedResults.Ok(await analyses.ListAsync(new PageRequest(page, pageSize), status, ct));

    public static async Task<Results<Ok<KnowledgeAnalysisRunResponse>, ProblemHttpResult>> GetRunAsync(
        Guid id, KnowledgeAnalysisService analyses, HttpContext http, CancellationToken ct) =>
        await analyses.GetAsync(id, ct) is { } run ? TypedResults.Ok(run) : KnowledgeAnalysisService.RunNotFound.ToHttpResult(http);

    public static async Task<Results<Ok<PagedResult<GapResponse>>, ProblemHttpResult>> ListGapsAsync(
        GapService gaps, HttpContext http, CancellationToken ct, int page = 1, int pageSize = 50, string? type = null, string? status = null,
        Guid? entity = null, int? minPriority = null, bool includeResolved = false)
    {
        var outcome = await gaps.ListAsync(new GapQuery(type, status, entity, minPriority, includeResolved), new PageRequest(page, pageSize), ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value!) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<Ok<GapResponse>, ProblemHttpResult>> GetGapAsync(Guid id, GapService gaps, HttpContext http, CancellationToken ct) =>
        await gaps.GetAsync(id, ct) is { } gap ? TypedResults.Ok(gap) : GapService.GapNotFound.ToHttpResult(http);

    public static async Task<Results<Ok<GapResponse>, ProblemHttpResult>> UpdateGapAsync(
        Guid id, UpdateGapRequest request, GapService gaps, HttpContext http, CancellationToken ct)
    {
        var outcome = await gaps.UpdateStatusAsync(id, request, ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value!) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<Created<AnswerGapResponse>, ProblemHttpResult>> AnswerGapAsync(
        Guid id, AnswerGapRequest request, GapService gaps, HttpContext http, CancellationToken ct)
    {
        var outcome = await gaps.AnswerAsync(id, request, ct);
        return outcome.Succeeded
            ? TypedResults.Created($"/api/knowledge/gaps/{id}", outcome.Value!)
            : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Ok<KnowledgeStatsResponse>> StatsAsync(GapService gaps, CancellationToken ct) =>
        TypedResults.Ok(await gaps.StatsAsync(ct));
}
