using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using SecondBrain.Core.Auditing;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Search;
using SecondBrain.Core.Tenancy;
using SecondBrain.ServiceDefaults.Telemetry;

namespace SecondBrain.Core.Knowledge.Graph;

/// <summary>
/// Reading the knowledge graph: entities listed and searched over their aliases, one entity with its aliases,
/// aggregated relations and mentions. Reads go straight to Postgres, so every instance shows a change the moment it
/// commits.
/// </summary>
public sealed class EntityQueries(SecondBrainDbContext db)
{
    public const int MaxNameLength = 300;
    public const int MaxMentionPageSize = 100;
    private const int MaxRelations = 100;
    private const int EvidencePerRelation = 3;

    public async Task<Outcome<PagedResult<EntitySummary>>> ListAsync(EntityQuery query, PageRequest page, CancellationToken ct)
    {
        var type = string.IsNullOrWhiteSpace(query.Type) ? null : query.Type.Trim().ToLowerInvariant();
        var search = string.IsNullOrWhiteSpace(query.Search) ? null : query.Search.Trim();
        if (new Validation()
                .Check(type is null || EntityTypes.All.Contains(type), nameof(query.Type), $"Type must be one of: {string.Join(", ", EntityTypes.All)}.")
                .Check(search is null || search.Length <= MaxNameLength, nameof(query.Search), $"Search must be at most {MaxNameLength} characters.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        page = page.Normalized;
        var key = search is null ? null : EntityNameKey.SearchKey(search);

        // A search matches aliases (every name of an entity is one, the current name included) by substring or by
        // trigram similarity, both served by the trigram index; an exact name ranks first, then substring matches.
        var candidates = $"""
            WITH {(key is null ? "" : """
                matched AS (
                    SELECT a.entity_id,
                           max(CASE WHEN a.key = @key THEN 3.0
                                    WHEN a.key LIKE @pattern THEN 1.0 + similarity(a.key, @key)
                                    ELSE similarity(a.key, @key) END)::float8 AS rank
                    FROM knowledge_aliases a
                    WHERE a.tenant_id = @tenant AND (a.key % @key OR a.key LIKE @pattern)
                    GROUP BY a.entity_id
                ),
                """)}
            candidates AS (
                SELECT e.id, e.type, e.name, e.email, e.created_at, e.updated_at, {(key is null ? "0::float8" : "s.rank")} AS rank
                FROM knowledge_entities e {(key is null ? "" : "JOIN matched s ON s.entity_id = e.id")}
                WHERE e.tenant_id = @tenant {(type is null ? "" : "AND e.type = @type")}
            )
            """;

        void Parameters(NpgsqlCommand command)
        {
            if (key is not null)
            {
                command.Parameters.AddWithValue("key", key);
                command.Parameters.AddWithValue("pattern", "%" + EntityNameKey.EscapeLike(key) + "%");
            }

            if (type is not null)
            {
                command.Parameters.AddWithValue("type", type);
            }
        }

        long total;
        await using (var count = await CommandAsync(candidates + " SELECT count(*) FROM candidates", ct))
        {
            Parameters(count);
            total = (long)(await count.ExecuteScalarAsync(ct))!;
        }

        var items = new List<EntitySummary>();
        if (total > page.Skip)
        {
            await using var command = await CommandAsync(candidates + """
                SELECT c.id, c.type, c.name, c.email, c.created_at, c.updated_at, mc.mentions, mc.documents
                FROM candidates c
                CROSS JOIN LATERAL (
                    SELECT count(*) AS mentions, count(DISTINCT m.document_id) AS documents
                    FROM knowledge_mentions m WHERE m.tenant_id = @tenant AND m.entity_id = c.id
                ) mc
                ORDER BY c.rank DESC, mc.mentions DESC, c.name, c.id
                LIMIT @take OFFSET @skip
                """, ct);
            Parameters(command);
            command.Parameters.AddWithValue("take", page.PageSize);
            command.Parameters.AddWithValue("skip", page.Skip);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                items.Add(ReadSummary(reader));
            }
        }

        return new PagedResult<EntitySummary>(items, page.Page, page.PageSize, total);
    }

    public async Task<EntityDetail?> GetAsync(Guid id, PageRequest mentionPage, CancellationToken ct)
    {
        if ((await SummariesAsync([id], ct)).SingleOrDefault() is not { } summary)
        {
            return null;
        }

        mentionPage = new PageRequest(mentionPage.Page, Math.Min(mentionPage.PageSize, MaxMentionPageSize)).Normalized;
        var aliases = await db.EntityAliases.AsNoTracking()
            .Where(a => a.EntityId == id)
            .OrderBy(a => a.CreatedAt).ThenBy(a => a.Key)
            .Take(500)
            .Select(a => new EntityAliasView(a.Id, a.Alias, a.Key, a.Origin, a.CreatedAt))
            .ToListAsync(ct);
        var relations = await RelationsAsync(id, ct);

        var mentions = new List<EntityMentionView>();
        if (summary.MentionCount > mentionPage.Skip)
        {
            await using var command = await CommandAsync("""
                SELECT m.id, m.document_id, d.title, m.sentence_index, m.start, m.length, m.text, m.sentence, m.from_header
                FROM knowledge_mentions m
                LEFT JOIN documents d ON d.id = m.document_id AND d.tenant_id = m.tenant_id
                WHERE m.tenant_id = @tenant AND m.entity_id = @id
                ORDER BY d.source_created_at DESC NULLS LAST, m.document_id, m.sentence_index, m.start, m.id
                LIMIT @take OFFSET @skip
                """, ct);
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("take", mentionPage.PageSize);
            command.Parameters.AddWithValue("skip", mentionPage.Skip);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                mentions.Add(new EntityMentionView(reader.GetInt64(0), reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5), reader.GetString(6), reader.GetString(7), reader.GetBoolean(8)));
            }
        }

        return new EntityDetail(summary, aliases, relations,
            new PagedResult<EntityMentionView>(mentions, mentionPage.Page, mentionPage.PageSize, summary.MentionCount));
    }

    /// <summary>
    /// Relation evidence rows (one per document sentence) grouped by type, direction and the other entity, with how
    /// much evidence there is, how sure extraction was, and the strongest few sentences.
    /// </summary>
    private async Task<IReadOnlyList<EntityRelationView>> RelationsAsync(Guid id, CancellationToken ct)
    {
        var groups = new List<(string Type, string Direction, EntityRef Other, int Count, int Documents, double Max, double Average, long[] EvidenceIds)>();
        await using (var command = await CommandAsync($"""
            SELECT r.type,
                   CASE WHEN r.source_entity_id = @id THEN 'outgoing' ELSE 'incoming' END AS direction,
                   o.id, o.type, o.name,
                   count(*)::int AS evidence, count(DISTINCT r.document_id)::int AS documents,
                   max(r.confidence) AS max_confidence, avg(r.confidence) AS avg_confidence,
                   (array_agg(r.id ORDER BY r.confidence DESC, r.id DESC))[1:{EvidencePerRelation}] AS evidence_ids
            FROM knowledge_relations r
            JOIN knowledge_entities o ON o.tenant_id = r.tenant_id
                 AND o.id = CASE WHEN r.source_entity_id = @id THEN r.target_entity_id ELSE r.source_entity_id END
            WHERE r.tenant_id = @tenant AND (r.source_entity_id = @id OR r.target_entity_id = @id)
            GROUP BY 1, 2, 3, 4, 5
            ORDER BY evidence DESC, max_confidence DESC, o.name, 1
            LIMIT {MaxRelations}
            """, ct))
        {
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                groups.Add((reader.GetString(0), reader.GetString(1), new EntityRef(reader.GetGuid(2), reader.GetString(3), reader.GetString(4)),
                    reader.GetInt32(5), reader.GetInt32(6), reader.GetDouble(7), reader.GetDouble(8), reader.GetFieldValue<long[]>(9)));
            }
        }

        var evidence = new Dictionary<long, RelationEvidence>();
        var evidenceIds = groups.SelectMany(g => g.EvidenceIds).ToArray();
        if (evidenceIds.Length > 0)
        {
            await using var command = await CommandAsync("""
                SELECT r.id, r.document_id, d.title, r.sentence_index, r.sentence, r.confidence
                FROM knowledge_relations r
                LEFT JOIN documents d ON d.id = r.document_id AND d.tenant_id = r.tenant_id
                WHERE r.tenant_id = @tenant AND r.id = ANY(@ids)
                """, ct);
            command.Parameters.AddWithValue("ids", evidenceIds);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                evidence[reader.GetInt64(0)] = new RelationEvidence(reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.GetInt32(3), reader.GetString(4), reader.GetDouble(5));
            }
        }

        return groups.Select(g => new EntityRelationView(g.Type, g.Direction, g.Other, g.Count, g.Documents, g.Max, g.Average,
            g.EvidenceIds.Where(evidence.ContainsKey).Select(e => evidence[e]).ToList())).ToList();
    }

    internal async Task<IReadOnlyList<EntitySummary>> SummariesAsync(Guid[] ids, CancellationToken ct)
    {
        await using var command = await CommandAsync("""
            SELECT e.id, e.type, e.name, e.email, e.created_at, e.updated_at, mc.mentions, mc.documents
            FROM knowledge_entities e
            CROSS JOIN LATERAL (
                SELECT count(*) AS mentions, count(DISTINCT m.document_id) AS documents
                FROM knowledge_mentions m WHERE m.tenant_id = @tenant AND m.entity_id = e.id
            ) mc
            WHERE e.tenant_id = @tenant AND e.id = ANY(@ids)
            """, ct);
        command.Parameters.AddWithValue("ids", ids);
        var summaries = new List<EntitySummary>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            summaries.Add(ReadSummary(reader));
        }

        return summaries;
    }

    private static EntitySummary ReadSummary(NpgsqlDataReader reader) =>
        new(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.GetInt64(6), reader.GetInt64(7), reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5));

    private Task<NpgsqlCommand> CommandAsync(string sql, CancellationToken ct) => db.TenantCommandAsync(sql, ct);
}
