using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using SecondBrain.Core.AI;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Search;

public static class SearchModes
{
    public const string Hybrid = "hybrid";
    public const string Dense = "dense";
    public const string Keyword = "keyword";

    public static bool IsKnown(string mode) => mode is Hybrid or Dense or Keyword;
}

public sealed record SearchRequest(
    string? Query,
    string? Mode = SearchModes.Hybrid,
    int Limit = 10,
    IReadOnlyList<string>? Sources = null,
    string? Author = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null);

public sealed record SearchHit(
    Guid ChunkId,
    Guid DocumentId,
    string Title,
    string Source,
    string? Author,
    DateTimeOffset? Date,
    string? Section,
    int? Page,
    int Position,
    string Text,
    string Highlight,
    double Score,
    string? Kind = null);

/// <summary>Where a search spent its time: the query embedding (overlapping the keyword query), each retriever, loading the hits.</summary>
public sealed record SearchTimings(double EmbedMilliseconds, double DenseMilliseconds, double KeywordMilliseconds, double LoadMilliseconds);

public sealed record SearchResponse(string Query, string Mode, IReadOnlyList<string> Expansions, IReadOnlyList<SearchHit> Hits, double ElapsedMilliseconds, SearchTimings? Timings = null);

/// <summary>
/// Dense (embedding + vector index) and keyword (BM25 over Postgres full-text lexemes) retrieval fused by reciprocal rank fusion.
/// Stateless: the index lives in Postgres or Qdrant, embeddings come through the shared cache.
/// </summary>
public sealed class SearchService(SecondBrainDbContext db, TenantContext tenant, IVectorIndex vectors, KeywordIndex keywords, CachedEmbeddingService embeddings)
{
    private const int CandidatePool = 50;

    public async Task<Outcome<SearchResponse>> SearchAsync(SearchRequest request, CancellationToken ct)
    {
        var mode = (request.Mode ?? SearchModes.Hybrid).ToLowerInvariant();
        if (new Common.Validation()
                .Require(nameof(request.Query), request.Query, 2000)
                .Check(SearchModes.IsKnown(mode), nameof(request.Mode), "Mode must be dense, keyword or hybrid.")
                .Check(request.Limit is >= 1 and <= 100, nameof(request.Limit), "Limit must be between 1 and 100.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        var clock = Stopwatch.StartNew();
        var tenantId = tenant.TenantId!.Value;
        var query = request.Query!.Trim();
        var glossary = await db.Glossary.AsNoTracking().ToDictionaryAsync(g => g.Term, g => (IReadOnlyList<string>)g.Expansions, ct);
        var expansions = QueryExpansion.Expand(query, glossary);
        var tsQuery = QueryExpansion.ToOrTsQuery(query, expansions);
        var filter = new VectorFilter(request.Sources is { Count: > 0 } ? request.Sources : null, request.Author, request.From?.ToUniversalTime(), request.To?.ToUniversalTime());
        var pool = Math.Max(CandidatePool, request.Limit * 3);

        // The query's embedding (model inference on a cache miss) is computed while Postgres runs the keyword query.
        var embedClock = Stopwatch.StartNew();
        var embedding = mode == SearchModes.Keyword ? null : EmbedAsync(query, tenantId, embedClock, ct);
        var stage = Stopwatch.StartNew();
        IReadOnlyList<Guid> keyword = mode == SearchModes.Dense || tsQuery.Length == 0
            ? []
            : (await keywords.SearchAsync(tenantId, new KeywordIndex.Query(query, expansions), filter, pool, ct)).Select(h => h.ChunkId).ToList();
        var keywordMs = stage.Elapsed.TotalMilliseconds;
        IReadOnlyList<Guid> dense = [];
        double denseMs = 0, embedMs = 0;
        if (embedding is not null)
        {
            var vector = await embedding;
            embedMs = embedClock.Elapsed.TotalMilliseconds;
            stage.Restart();
            dense = (await vectors.SearchAsync(tenantId, vector, pool, filter, ct)).Select(h => h.ChunkId).ToList();
            denseMs = stage.Elapsed.TotalMilliseconds;
        }

        var ranked = mode switch
        {
            SearchModes.Keyword => keyword.Select((id, i) => (id, 1.0 / (ReciprocalRankFusion.DefaultK + i + 1))).ToList(),
            SearchModes.Dense => dense.Select((id, i) => (id, 1.0 / (ReciprocalRankFusion.DefaultK + i + 1))).ToList(),
            _ => ReciprocalRankFusion.Fuse([dense, keyword]).ToList()
        };

        var top = ranked.Take(request.Limit).ToList();
        stage.Restart();
        var hits = await LoadHitsAsync(top, tsQuery, ct);
        var timings = new SearchTimings(embedMs, denseMs, keywordMs, stage.Elapsed.TotalMilliseconds);
        return new SearchResponse(query, mode, expansions, hits, clock.Elapsed.TotalMilliseconds, timings);
    }

    private async Task<float[]> EmbedAsync(string query, Guid tenantId, Stopwatch clock, CancellationToken ct)
    {
        await Task.Yield();
        var vector = await embeddings.EmbedOneAsync(query, tenantId, ct);
        clock.Stop();
        return vector.ToArray();
    }

    private async Task<IReadOnlyList<SearchHit>> LoadHitsAsync(IReadOnlyList<(Guid Id, double Score)> ranked, string tsQuery, CancellationToken ct)
    {
        if (ranked.Count == 0)
        {
            return [];
        }

        // Only chunks of the live version of a live document: whatever a late writer or a lagging index left
        // behind, a deleted or superseded document never comes back in a search or an answer.
        await using var command = await db.TenantCommandAsync("""
            SELECT c.id, c.document_id, c.title, c.source, c.author, c.document_date, c.section, c.page, c.position, c.text,
                   CASE WHEN @q = '' THEN left(c.text, 240)
                        ELSE ts_headline('english', c.text, to_tsquery('english', @q), 'StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=35, MinWords=12') END,
                   c.kind
              FROM chunks c
              JOIN documents d ON d.id = c.document_id AND d.tenant_id = c.tenant_id
             WHERE c.tenant_id = @tenant AND c.id = ANY(@ids)
               AND d.deleted_at IS NULL AND d.version = c.document_version
            """, ct);
        command.Parameters.AddWithValue("ids", ranked.Select(r => r.Id).ToArray());
        command.Parameters.AddWithValue("q", tsQuery);
        var rows = new Dictionary<Guid, SearchHit>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetGuid(0);
                rows[id] = new SearchHit(id, reader.GetGuid(1), reader.GetString(2), reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
                    reader.IsDBNull(6) ? null : reader.GetString(6),
                    reader.IsDBNull(7) ? null : reader.GetInt32(7),
                    reader.GetInt32(8), reader.GetString(9), reader.GetString(10), 0, reader.GetString(11));
            }
        }

        return ranked.Where(r => rows.ContainsKey(r.Id)).Select(r => rows[r.Id] with { Score = r.Score }).ToList();
    }
}
