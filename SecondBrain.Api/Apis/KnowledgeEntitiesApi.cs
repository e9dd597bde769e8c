using Microsoft.AspNetCore.Http.HttpResults;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Common;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Knowledge.Graph;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The knowledge graph: entities, their aliases, relations and mentions, experts on a topic, and the corrections
/// (rename, merge, split) to how names were normalised into entities.
/// </summary>
/// <remarks>
/// Corrections are open to every member of the tenant, not only admins, as uploading documents and editing the
/// glossary are: the people who notice that two names are one person are the ones reading the graph, every change is
/// audited, and each is undone by its opposite (a merge by a split, a rename by another). Admin-only endpoints are
/// those that change who can get in or what is connected (users, integrations, settings).
/// </remarks>
public static class KnowledgeEntitiesApi
{
    public static RouteGroupBuilder MapKnowledgeEntitiesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/knowledge").WithTags("Knowledge graph");

        api.MapGet("/entities", ListAsync)
            .WithName("ListKnowledgeEntities")
            .WithSummary("Entities, most relevant (search matches any alias, exactly, by substring or fuzzily) then most mentioned first; filters: search, type.");
        api.MapGet("/entities/{id:guid}", GetAsync)
            .WithName("GetKnowledgeEntity")
            .WithSummary("An entity with its aliases, relations aggregated in both directions with evidence, and a page of its mentions.");
        api.MapGet("/experts", ExpertsAsync)
            .WithName("FindExperts")
            .WithSummary("People who know about a topic, ranked by evidence (owns, decided, works on, authored, mentioned) with the sentences behind it.");
        api.MapPost("/entities/{id:guid}/rename", RenameAsync)
            .WithName("RenameKnowledgeEntity")
            .WithSummary("Rename: the new name becomes a user alias, old aliases stay. 409 when the name belongs to another entity (merge instead).");
        api.MapPost("/entities/{id:guid}/merge", MergeAsync)
            .WithName("MergeKnowledgeEntities")
            .WithSummary("Merge the given entities into this one: aliases, mentions and relations move here, the others are deleted.");
        api.MapPost("/entities/{id:guid}/split", SplitAsync)
            .WithName("SplitKnowledgeEntity")
            .WithSummary("Split the given aliases, their mentions and the relations stated through them off into a new entity of the same type.");
        return api;
    }

    public static async Task<Results<Ok<PagedResult<EntitySummary>>, ProblemHttpResult>> ListAsync(
        EntityService entities, HttpContext http, CancellationToken ct, string? search = null, string? type = null, int page = 1, int pageSize = 50)
    {
        var outcome = await entities.ListAsync(new EntityQuery(search, type), new PageRequest(page, pageSize), ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<Ok<EntityDetail>, ProblemHttpResult>> GetAsync(
        Guid id, EntityService entities, HttpContext http, CancellationToken ct, int mentionPage = 1, int mentionPageSize = 20) =>
        await entities.GetAsync(id, new PageRequest(mentionPage, mentionPageSize), ct) is { } entity
            ? TypedResults.Ok(entity)
            : ApiProblem.NotFound("The entity").ToHttpResult(http);

    public static async Task<Results<Ok<ExpertsResponse>, ProblemHttpResult>> ExpertsAsync(
        EntityService entities, HttpContext http, CancellationToken ct, string? topic = null, int limit = 10)
    {
        var outcome = await entities.ExpertsAsync(topic, limit, ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<Ok<EntityDetail>, ProblemHttpResult>> RenameAsync(
        Guid id, RenameEntityRequest request, EntityService entities, HttpContext http, CancellationToken ct)
    {
        var outcome = await entities.RenameAsync(id, request, ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<Ok<EntityMergeResult>, ProblemHttpResult>> MergeAsync(
        Guid id, MergeEntitiesRequest request, EntityService entities, HttpContext http, CancellationToken ct)
    {
        var outcome = await entities.MergeAsync(id, request, ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<Created<EntitySplitResult>, ProblemHttpResult>> SplitAsync(
        Guid id, SplitEntityRequest request, EntityService entities, HttpContext http, CancellationToken ct)
    {
        var outcome = await entities.SplitAsync(id, request, ct);
        return outcome.Succeeded
            ? TypedResults.Created($"/api/knowledge/entities/{outcome.Value!.Created.Entity.Id}", outcome.Value)
            : outcome.Problem!.ToHttpResult(http);
    }
}
