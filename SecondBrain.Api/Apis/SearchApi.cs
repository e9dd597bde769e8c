using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Search;

namespace Microsoft.AspNetCore.Builder;

public sealed record GlossaryEntryRequest(string? Term, IReadOnlyList<string>? Expansions);

public sealed record GlossaryEntryResponse(Guid Id, string Term, IReadOnlyList<string> Expansions, DateTimeOffset UpdatedAt);

public static class SearchApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapSearchApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Search");

        api.MapPost("/search", SearchAsync)
            .RequireRateLimiting(RateLimitPolicies.Tenant)
            .WithName("Search")
            .WithSummary("Hybrid (dense + keyword, reciprocal rank fusion), dense or keyword search with filters and highlights.");
        api.MapPost("/ask", AskAsync)
            .RequireRateLimiting(RateLimitPolicies.Tenant)
            .WithName("Ask")
            .WithSummary("An answer with numbered citations. With Accept: text/event-stream the answer streams as Server-Sent Events.");

        var glossary = app.MapGroup("/api/glossary").WithTags("Search");
        glossary.MapGet("/", ListGlossaryAsync).WithName("ListGlossary").WithSummary("The tenant's glossary used for query expansion.");
        glossary.MapPut("/", PutGlossaryAsync).WithName("PutGlossaryEntry").WithSummary("Add or replace a glossary term and its expansions.");
        glossary.MapDelete("/{id:guid}", DeleteGlossaryAsync).WithName("DeleteGlossaryEntry").WithSummary("Remove a glossary term.");
        return app;
    }

    public static async Task<Results<Ok<SearchResponse>, ProblemHttpResult>> SearchAsync(SearchRequest request, SearchService search, HttpContext http, CancellationToken ct)
    {
        var outcome = await search.SearchAsync(request, ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<Ok<AskResponse>, EmptyHttpResult, ProblemHttpResult>> AskAsync(AskRequest request, AskService ask, HttpContext http, CancellationToken ct)
    {
        if (!ServerSentEvents.Wanted(http.Request) || AskService.Validate(request.Question) is not null)
        {
            var outcome = await ask.AskAsync(request, ct);
            return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
        }

        ServerSentEvents.Start(http);
        await foreach (var (name, data) in ask.StreamAsync(request, ct))
        {
            await ServerSentEvents.WriteAsync(http, name, data, ct);
        }

        return TypedResults.Empty;
    }

    public static async Task<Ok<List<GlossaryEntryResponse>>> ListGlossaryAsync(SecondBrainDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.Glossary.AsNoTracking().OrderBy(g => g.Term)
            .Select(g => new GlossaryEntryResponse(g.Id, g.Term, g.Expansions, g.UpdatedAt)).ToListAsync(ct));

    public static async Task<Results<Ok<GlossaryEntryResponse>, ProblemHttpResult>> PutGlossaryAsync(
        GlossaryEntryRequest request, SecondBrainDbContext db, CorpusVersion corpus, SecondBrain.Core.Tenancy.TenantContext tenant, HttpContext http, CancellationToken ct)
    {
        var expansions = request.Expansions?.Where(e => !string.IsNullOrWhiteSpace(e)).Select(e => e.Trim()).Distinct().ToList() ?? [];
        if (new Validation().Require(nameof(request.Term), request.Term, 200)
                .Check(expansions.Count is > 0 and <= 20, nameof(request.Expansions), "Give 1 to 20 expansions.")
                .ToProblem() is { } invalid)
        {
            return invalid.ToHttpResult(http);
        }

        var term = request.Term!.Trim();
        var entry = await db.Glossary.SingleOrDefaultAsync(g => g.Term == term, ct);
        if (entry is null)
        {
            entry = new GlossaryEntry { Term = term };
            db.Glossary.Add(entry);
        }

        entry.Expansions = expansions;
        entry.UpdatedAt = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(ct);
        await corpus.BumpAsync(tenant.TenantId!.Value, ct); // cached answers used the old expansions
        return TypedResults.Ok(new GlossaryEntryResponse(entry.Id, entry.Term, entry.Expansions, entry.UpdatedAt));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteGlossaryAsync(
        Guid id, SecondBrainDbContext db, CorpusVersion corpus, SecondBrain.Core.Tenancy.TenantContext tenant, HttpContext http, CancellationToken ct)
    {
        if (await db.Glossary.Where(g => g.Id == id).ExecuteDeleteAsync(ct) == 0)
        {
            return ApiProblem.NotFound("The glossary entry").ToHttpResult(http);
        }

        await corpus.BumpAsync(tenant.TenantId!.Value, ct);
        return TypedResults.NoContent();
    }
}
