using System.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using SecondBrain.Core.Data;
using SecondBrain.ServiceDefaults.Telemetry;

namespace SecondBrain.Core.Search;

/// <summary>
/// BM25 keyword retrieval over the <c>chunk_terms</c> postings that a trigger on <c>chunks</c> keeps (see the
/// KeywordPostings migration). Postgres' own <c>ts_rank</c> knows nothing of how rare a word is, so on real
/// questions it ranks like a word counter; BM25 weighs each term by its inverse document frequency in the tenant.
/// </summary>
/// <remarks>
/// A query reads, for each of its terms, only the <see cref="PostingsPerTerm"/> best postings (index order), sums
/// the weights of the chunks found, and rescores the best of those exactly from all their postings. The work is
/// bounded by the number of query terms, not by the corpus: a word found in every chunk costs no more than a rare
/// one. Document frequencies and the tenant's chunk count are counted on first use and cached per tenant and corpus
/// version, so they are recounted only after the tenant's corpus changed.
/// </remarks>
public sealed class KeywordIndex(SecondBrainDbContext db, CorpusVersion corpus, KeywordStatisticsCache statistics)
{
    public const int PostingsPerTerm = 1000;
    private const int RescoredCandidates = 300;
    private const float ExpansionWeight = 0.5f;

    public sealed record Query(string Text, IReadOnlyList<string> Expansions);

    public async Task<IReadOnlyList<(Guid ChunkId, double Score)>> SearchAsync(Guid tenantId, Query query, VectorFilter? filter, int limit, CancellationToken ct)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        if (connection.State != ConnectionState.Open)
        {
            await connection.OpenAsync(ct);
        }

        var (queryTerms, expansionTerms) = await LexemesAsync(connection, query, ct);
        var terms = queryTerms.Select(t => (Lexeme: t, Boost: 1f))
            .Concat(expansionTerms.Except(queryTerms).Select(t => (Lexeme: t, Boost: ExpansionWeight)))
            .ToList();
        if (terms.Count == 0)
        {
            return [];
        }

        var version = await corpus.GetAsync(tenantId, ct);
        var (chunkCount, frequencies) = await StatisticsAsync(connection, tenantId, version, terms.Select(t => t.Lexeme).ToList(), ct);
        var weighted = terms
            .Where(t => frequencies[t.Lexeme] > 0)
            .Select(t => (t.Lexeme, Weight: t.Boost * InverseDocumentFrequency(chunkCount, frequencies[t.Lexeme])))
            .ToList();
        if (weighted.Count == 0)
        {
            return [];
        }

        var parameters = new List<NpgsqlParameter>();
        var conditions = ChunkFilterSql.Conditions(filter, "c.", parameters);
        var filterJoin = conditions.Length == 0 ? "" : "JOIN chunks c ON c.id = p.chunk_id AND c.tenant_id = p.tenant_id";
        await using var command = new NpgsqlCommand($"""
            WITH q AS (
                SELECT * FROM unnest(@lexemes, @weights) AS q(lexeme, weight)
            ),
            candidates AS (
                SELECT x.chunk_id
                FROM q CROSS JOIN LATERAL (
                    SELECT p.chunk_id, p.impact
                    FROM chunk_terms p {filterJoin}
                    WHERE p.tenant_id = @t AND p.lexeme = q.lexeme {conditions}
                    ORDER BY p.impact DESC
                    LIMIT @per_term
                ) AS x
                GROUP BY x.chunk_id
                ORDER BY sum(q.weight * x.impact) DESC, x.chunk_id
                LIMIT @rescored
            )
            SELECT p.chunk_id, sum(q.weight * p.impact)::float8 AS score
            FROM candidates k
            JOIN chunk_terms p ON p.chunk_id = k.chunk_id
            JOIN q ON q.lexeme = p.lexeme
            GROUP BY p.chunk_id
            ORDER BY score DESC, p.chunk_id
            LIMIT @limit
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<string[]>("lexemes", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = weighted.Select(w => w.Lexeme).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<float[]>("weights", NpgsqlDbType.Array | NpgsqlDbType.Real) { TypedValue = weighted.Select(w => (float)w.Weight).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<Guid>("t", NpgsqlDbType.Uuid) { TypedValue = tenantId });
        command.Parameters.Add(new NpgsqlParameter<int>("per_term", NpgsqlDbType.Integer) { TypedValue = PostingsPerTerm });
        command.Parameters.Add(new NpgsqlParameter<int>("rescored", NpgsqlDbType.Integer) { TypedValue = Math.Max(RescoredCandidates, limit * 2) });
        command.Parameters.Add(new NpgsqlParameter<int>("limit", NpgsqlDbType.Integer) { TypedValue = limit });
        command.Parameters.AddRange(parameters.ToArray());

        var hits = new List<(Guid, double)>(limit);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            hits.Add((reader.GetGuid(0), reader.GetDouble(1)));
        }

        return hits;
    }

    /// <summary>BM25's idf, in the form that stays positive for terms in more than half the chunks.</summary>
    public static double InverseDocumentFrequency(long chunkCount, long documentFrequency) =>
        Math.Log(1 + (chunkCount - documentFrequency + 0.5) / (documentFrequency + 0.5));

    /// <summary>The query's and the expansions' lexemes, by the same text search configuration the chunks use.</summary>
    private static async Task<(string[] Query, string[] Expansions)> LexemesAsync(NpgsqlConnection connection, Query query, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "SELECT tsvector_to_array(to_tsvector('english', @q)), tsvector_to_array(to_tsvector('english', @e))", connection);
        command.Parameters.Add(new NpgsqlParameter<string>("q", NpgsqlDbType.Text) { TypedValue = query.Text });
        command.Parameters.Add(new NpgsqlParameter<string>("e", NpgsqlDbType.Text) { TypedValue = string.Join(" . ", query.Expansions) });
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetFieldValue<string[]>(0), reader.GetFieldValue<string[]>(1));
    }

    private async Task<(long ChunkCount, Dictionary<string, long> Frequencies)> StatisticsAsync(
        NpgsqlConnection connection, Guid tenantId, long version, IReadOnlyList<string> lexemes, CancellationToken ct)
    {
        var frequencies = new Dictionary<string, long>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var lexeme in lexemes)
        {
            if (statistics.TryGet(tenantId, version, lexeme, out var frequency))
            {
                frequencies[lexeme] = frequency;
            }
            else
            {
                missing.Add(lexeme);
            }
        }

        var countKnown = statistics.TryGet(tenantId, version, KeywordStatisticsCache.ChunkCountKey, out var chunkCount);
        if (missing.Count == 0 && countKnown)
        {
            return (chunkCount, frequencies);
        }

        // One round trip for everything not cached; each count walks one term's postings in the index.
        await using var command = new NpgsqlCommand("""
            SELECT l.lexeme, (SELECT count(*) FROM chunk_terms p WHERE p.tenant_id = @t AND p.lexeme = l.lexeme)
            FROM unnest(@lexemes) AS l(lexeme)
            UNION ALL
            SELECT NULL, count(*) FROM chunks WHERE tenant_id = @t AND @count_chunks
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<Guid>("t", NpgsqlDbType.Uuid) { TypedValue = tenantId });
        command.Parameters.Add(new NpgsqlParameter<string[]>("lexemes", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. missing] });
        command.Parameters.Add(new NpgsqlParameter<bool>("count_chunks", NpgsqlDbType.Boolean) { TypedValue = !countKnown });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var count = reader.GetInt64(1);
            if (reader.IsDBNull(0))
            {
                if (!countKnown)
                {
                    chunkCount = count;
                    statistics.Set(tenantId, version, KeywordStatisticsCache.ChunkCountKey, count);
                }
            }
            else
            {
                frequencies[reader.GetString(0)] = count;
                statistics.Set(tenantId, version, reader.GetString(0), count);
            }
        }

        return (Math.Max(chunkCount, 1), frequencies);
    }
}

/// <summary>
/// Per-instance, bounded cache of keyword statistics (document frequencies and chunk counts) keyed by tenant and
/// corpus version: a new version (any document indexed or deleted) makes the old entries unreachable, and they age out.
/// </summary>
public sealed class KeywordStatisticsCache(BoundedCacheRegistry registry) : IDisposable
{
    public const string ChunkCountKey = "";
    private readonly BoundedMemoryCache<(Guid Tenant, long Version, string Lexeme), long> _cache =
        new("keyword-statistics", 200_000, registry, timeToLive: TimeSpan.FromMinutes(30));

    public bool TryGet(Guid tenantId, long version, string lexeme, out long value) => _cache.TryGetValue((tenantId, version, lexeme), out value);

    public void Set(Guid tenantId, long version, string lexeme, long value) => _cache.Set((tenantId, version, lexeme), value);

    public void Dispose() => _cache.Dispose();
}
