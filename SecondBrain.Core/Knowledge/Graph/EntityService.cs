using System.Collections.Frozen;
using System.Data;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using SecondBrain.Core.Auditing;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Knowledge.Extraction;
using SecondBrain.Core.Search;
using SecondBrain.Core.Tenancy;
using SecondBrain.ServiceDefaults.Telemetry;

namespace SecondBrain.Core.Knowledge.Graph;

public sealed record EntityQuery(string? Search = null, string? Type = null);

public sealed record EntityRef(Guid Id, string Type, string Name);

public sealed record EntitySummary(
    Guid Id,
    string Type,
    string Name,
    string? Email,
    long MentionCount,
    long DocumentCount,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public sealed record EntityAliasView(Guid Id, string Alias, string Key, string Origin, DateTimeOffset CreatedAt);

public sealed record RelationEvidence(Guid DocumentId, string? DocumentTitle, int SentenceIndex, string Sentence, double Confidence);

/// <param name="Direction">"outgoing" when this entity is the relation's source (it owns, decided, works on), else "incoming".</param>
public sealed record EntityRelationView(
    string Type,
    string Direction,
    EntityRef Other,
    int EvidenceCount,
    int DocumentCount,
    double MaxConfidence,
    double AverageConfidence,
    IReadOnlyList<RelationEvidence> Evidence);

public sealed record EntityMentionView(
    long Id,
    Guid DocumentId,
    string? DocumentTitle,
    int SentenceIndex,
    int Start,
    int Length,
    string Text,
    string Sentence,
    bool FromHeader);

public sealed record EntityDetail(
    EntitySummary Entity,
    IReadOnlyList<EntityAliasView> Aliases,
    IReadOnlyList<EntityRelationView> Relations,
    PagedResult<EntityMentionView> Mentions);

/// <param name="Kind">owns, decided, works_on, mentions (relations to an entity of the topic), related (a relation stated in a document about the topic), authored (author or header person of such a document), mentioned (named in it).</param>
public sealed record ExpertEvidence(string Kind, Guid DocumentId, string? DocumentTitle, int SentenceIndex, string Sentence, EntityRef? About, double Weight);

public sealed record Expert(EntityRef Person, string? Email, double Score, IReadOnlyList<ExpertEvidence> Evidence);

public sealed record ExpertsResponse(string Topic, IReadOnlyList<EntityRef> MatchedEntities, int MatchedDocuments, IReadOnlyList<Expert> Experts);

public sealed record RenameEntityRequest(string? Name);

public sealed record MergeEntitiesRequest(IReadOnlyList<Guid>? SourceIds);

/// <param name="Aliases">Names of the entity (as listed in its aliases, matched by normalised key) that belong to the new entity.</param>
/// <param name="Name">The new entity's name; it becomes one of its aliases.</param>
public sealed record SplitEntityRequest(IReadOnlyList<string>? Aliases, string? Name);

public sealed record GraphChangeCounts(int Aliases, int Mentions, int Relations);

public sealed record EntityMergeResult(EntityDetail Target, IReadOnlyList<Guid> MergedIds, GraphChangeCounts Moved);

public sealed record EntitySplitResult(EntitySummary Original, EntityDetail Created, GraphChangeCounts Moved);

public static class KnowledgeAuditActions
{
    public const string EntityRenamed = "knowledge.entity_renamed";
    public const string EntitiesMerged = "knowledge.entities_merged";
    public const string EntitySplit = "knowledge.entity_split";
}

/// <summary>
/// The knowledge graph as the API shows it (entities with their aliases, aggregated relations, mentions, and
/// experts on a topic) and the user's corrections to entity normalisation: rename, merge and split.
/// </summary>
/// <remarks>
/// Reads go straight to Postgres, so every instance shows a change the moment it commits. Corrections run in one
/// transaction that first locks the entity rows involved (in id order, so two corrections cannot deadlock each
/// other): an extraction resolving a name to one of those entities at the same moment either committed before (and
/// its rows are moved with the rest) or waits and then fails its foreign key on a deleted entity and is retried.
/// After the commit the tenant's alias generation is bumped, so no instance's <see cref="AliasCache"/> resolves a
/// name to the old entity for the next document.
/// </remarks>
public sealed class EntityService(
    SecondBrainDbContext db,
    TenantContext tenant,
    AliasCache aliasCache,
    InstanceIdentity instance,
    TimeProvider time)
{
    public const int MaxNameLength = 300;
    public const int MaxMergeSources = 50;
    public const int MaxMentionPageSize = 100;
    private const int MaxRelations = 100;
    private const int EvidencePerRelation = 3;
    private const int EvidencePerExpert = 5;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // What a piece of expert evidence is worth: owning what the topic names says most, being named near it least.
    private static readonly FrozenDictionary<string, double> RelationWeights = new Dictionary<string, double>
    {
        [RelationTypes.Owns] = 5,
        [RelationTypes.Decided] = 3,
        [RelationTypes.WorksOn] = 2,
        [RelationTypes.Mentions] = 0.5
    }.ToFrozenDictionary();

    private const double AuthoredWeight = 1.5;
    private const double MentionedWeight = 0.5;

    /// <summary>A relation stated in a document about the topic but not to an entity of the topic counts at this share.</summary>
    private const double IndirectRelationShare = 0.5;

    private Guid TenantId => tenant.TenantId ?? throw new InvalidOperationException("The knowledge graph needs a tenant.");

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
        var key = search is null ? null : SearchKey(search);

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
                    WHERE a.tenant_id = @t AND (a.key % @key OR a.key LIKE @pattern)
                    GROUP BY a.entity_id
                ),
                """)}
            candidates AS (
                SELECT e.id, e.type, e.name, e.email, e.created_at, e.updated_at, {(key is null ? "0::float8" : "s.rank")} AS rank
                FROM knowledge_entities e {(key is null ? "" : "JOIN matched s ON s.entity_id = e.id")}
                WHERE e.tenant_id = @t {(type is null ? "" : "AND e.type = @type")}
            )
            """;

        void Parameters(NpgsqlCommand command)
        {
            if (key is not null)
            {
                command.Parameters.AddWithValue("key", key);
                command.Parameters.AddWithValue("pattern", "%" + EscapeLike(key) + "%");
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
                    FROM knowledge_mentions m WHERE m.tenant_id = @t AND m.entity_id = c.id
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
                WHERE m.tenant_id = @t AND m.entity_id = @id
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
            WHERE r.tenant_id = @t AND (r.source_entity_id = @id OR r.target_entity_id = @id)
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
                WHERE r.tenant_id = @t AND r.id = ANY(@ids)
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

    /// <summary>
    /// People who know about a topic, ranked by evidence. The topic is matched two ways: entities whose names are
    /// like it (trigram similarity, substring either way; people excluded, they are the answer, not the topic) and
    /// documents about it (full text over the chunks, plus documents naming a matched entity). A person scores for
    /// owning (strongest), deciding on, working on or mentioning a matched entity, for relations stated in a topic
    /// document, and for authoring or being named in one; each kind of evidence counts once per document, so one
    /// long thread does not outweigh several documents.
    /// </summary>
    public async Task<Outcome<ExpertsResponse>> ExpertsAsync(string? topic, int limit, CancellationToken ct)
    {
        if (new Validation()
                .Require(nameof(topic), topic, MaxNameLength)
                .Check(limit is >= 1 and <= 50, nameof(limit), "Limit must be between 1 and 50.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        var text = topic!.Trim();
        var key = SearchKey(text);

        var matched = new Dictionary<Guid, EntityRef>();
        await using (var command = await CommandAsync("""
            SELECT e.id, e.type, e.name
            FROM knowledge_aliases a
            JOIN knowledge_entities e ON e.id = a.entity_id AND e.tenant_id = a.tenant_id
            WHERE a.tenant_id = @t AND e.type <> 'person'
              AND (a.key % @key OR a.key LIKE @pattern OR a.key <% @key)
            GROUP BY e.id, e.type, e.name
            ORDER BY max(greatest(similarity(a.key, @key), word_similarity(a.key, @key))) DESC, e.id
            LIMIT 50
            """, ct))
        {
            command.Parameters.AddWithValue("key", key);
            command.Parameters.AddWithValue("pattern", "%" + EscapeLike(key) + "%");
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                matched[reader.GetGuid(0)] = new EntityRef(reader.GetGuid(0), reader.GetString(1), reader.GetString(2));
            }
        }

        // Document relevance in (0, 1]: the best chunk's full-text rank relative to the best document's; a document
        // naming a matched entity is fully about the topic.
        var relevance = new Dictionary<Guid, double>();
        var tsQuery = QueryExpansion.ToOrTsQuery(text, []);
        if (tsQuery.Length > 0)
        {
            await using var command = await CommandAsync("""
                SELECT c.document_id, max(ts_rank(c.search_vector, q))::float8 AS rank
                FROM chunks c, to_tsquery('english', @q) q
                WHERE c.tenant_id = @t AND c.search_vector @@ q
                GROUP BY c.document_id
                ORDER BY rank DESC
                LIMIT 100
                """, ct);
            command.Parameters.AddWithValue("q", tsQuery);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                relevance[reader.GetGuid(0)] = reader.GetDouble(1);
            }
        }

        var best = relevance.Count == 0 ? 1 : Math.Max(relevance.Values.Max(), double.Epsilon);
        foreach (var document in relevance.Keys.ToList())
        {
            relevance[document] /= best;
        }

        if (matched.Count > 0)
        {
            await using var command = await CommandAsync("""
                SELECT DISTINCT m.document_id FROM knowledge_mentions m
                WHERE m.tenant_id = @t AND m.entity_id = ANY(@entities)
                LIMIT 200
                """, ct);
            command.Parameters.AddWithValue("entities", matched.Keys.ToArray());
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                relevance[reader.GetGuid(0)] = 1;
            }
        }

        if (matched.Count == 0 && relevance.Count == 0)
        {
            return new ExpertsResponse(text, [], 0, []);
        }

        var entities = matched.Keys.ToArray();
        var documents = relevance.Keys.ToArray();
        var evidence = new List<(Guid Person, ExpertEvidence Item)>();
        var people = new Dictionary<Guid, (EntityRef Ref, string? Email)>();
        await using (var command = await CommandAsync("""
            SELECT p.id, p.name, p.email, r.type, r.target_entity_id, o.type, o.name, r.document_id, r.sentence_index, r.sentence, r.confidence,
                   r.target_entity_id = ANY(@entities) AS direct
            FROM knowledge_relations r
            JOIN knowledge_entities p ON p.id = r.source_entity_id AND p.tenant_id = r.tenant_id AND p.type = 'person'
            JOIN knowledge_entities o ON o.id = r.target_entity_id AND o.tenant_id = r.tenant_id
            WHERE r.tenant_id = @t AND (r.target_entity_id = ANY(@entities) OR r.document_id = ANY(@documents))
            ORDER BY r.confidence DESC
            LIMIT 5000
            """, ct))
        {
            command.Parameters.AddWithValue("entities", entities);
            command.Parameters.AddWithValue("documents", documents);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var person = reader.GetGuid(0);
                people[person] = (new EntityRef(person, EntityTypes.Person, reader.GetString(1)), reader.IsDBNull(2) ? null : reader.GetString(2));
                var type = reader.GetString(3);
                var document = reader.GetGuid(7);
                var direct = reader.GetBoolean(11);
                var weight = RelationWeights.GetValueOrDefault(type, RelationWeights[RelationTypes.Mentions]) * reader.GetDouble(10)
                    * (direct ? 1 : IndirectRelationShare * relevance.GetValueOrDefault(document));
                evidence.Add((person, new ExpertEvidence(direct ? type : "related", document, null, reader.GetInt32(8), reader.GetString(9),
                    new EntityRef(reader.GetGuid(4), reader.GetString(5), reader.GetString(6)), weight)));
            }
        }

        if (documents.Length > 0)
        {
            await using var command = await CommandAsync("""
                SELECT p.id, p.name, p.email, m.document_id, m.sentence_index, m.sentence, m.from_header
                FROM knowledge_mentions m
                JOIN knowledge_entities p ON p.id = m.entity_id AND p.tenant_id = m.tenant_id AND p.type = 'person'
                WHERE m.tenant_id = @t AND m.document_id = ANY(@documents)
                LIMIT 10000
                """, ct);
            command.Parameters.AddWithValue("documents", documents);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var person = reader.GetGuid(0);
                people[person] = (new EntityRef(person, EntityTypes.Person, reader.GetString(1)), reader.IsDBNull(2) ? null : reader.GetString(2));
                var document = reader.GetGuid(3);
                var authored = reader.GetBoolean(6);
                evidence.Add((person, new ExpertEvidence(authored ? "authored" : "mentioned", document, null, reader.GetInt32(4), reader.GetString(5),
                    null, (authored ? AuthoredWeight : MentionedWeight) * relevance.GetValueOrDefault(document))));
            }
        }

        // Each kind of evidence counts once per document (its strongest instance).
        var experts = evidence
            .GroupBy(e => e.Person)
            .Select(person =>
            {
                var items = person.Select(e => e.Item)
                    .GroupBy(i => (i.Kind, i.DocumentId))
                    .Select(g => g.OrderByDescending(i => i.Weight).First())
                    .OrderByDescending(i => i.Weight)
                    .ToList();
                return (Person: person.Key, Score: items.Sum(i => i.Weight), Items: items);
            })
            .Where(p => p.Score > 0)
            .OrderByDescending(p => p.Score).ThenBy(p => people[p.Person].Ref.Name, StringComparer.Ordinal)
            .Take(limit)
            .ToList();

        var shown = experts.SelectMany(e => e.Items.Take(EvidencePerExpert)).Select(i => i.DocumentId).Distinct().ToList();
        var titles = await db.Documents.AsNoTracking().Where(d => shown.Contains(d.Id)).ToDictionaryAsync(d => d.Id, d => d.Title, ct);
        return new ExpertsResponse(text, matched.Values.ToList(), relevance.Count,
            experts.Select(e => new Expert(people[e.Person].Ref, people[e.Person].Email, Math.Round(e.Score, 3),
                e.Items.Take(EvidencePerExpert)
                    .Select(i => i with { DocumentTitle = titles.GetValueOrDefault(i.DocumentId), Weight = Math.Round(i.Weight, 3) })
                    .ToList())).ToList());
    }

    /// <summary>
    /// Renames an entity: the new name becomes a user alias (taking over the alias if the entity already had that
    /// name), the old aliases stay so documents using them still resolve here. A name that is another entity's alias
    /// is a conflict: that is a merge, not a rename.
    /// </summary>
    public async Task<Outcome<EntityDetail>> RenameAsync(Guid id, RenameEntityRequest request, CancellationToken ct)
    {
        if (ValidateName(request.Name, nameof(request.Name)) is { } invalid)
        {
            return invalid;
        }

        var name = CleanName(request.Name!);
        var key = EntityNameKey.Normalize(name);
        var outcome = await InTransactionAsync<bool>(async token =>
        {
            if ((await LockAsync([id], token)).Count == 0)
            {
                return ApiProblem.NotFound("The entity");
            }

            var entity = await db.KnowledgeEntities.SingleAsync(e => e.Id == id, token);
            var alias = await db.EntityAliases.SingleOrDefaultAsync(a => a.Key == key, token);
            if (alias is not null && alias.EntityId != id)
            {
                return NameTaken(name, alias.EntityId);
            }

            if (alias is null)
            {
                db.EntityAliases.Add(new EntityAlias { TenantId = entity.TenantId, EntityId = id, Alias = name, Key = key, Origin = AliasOrigins.User });
            }
            else
            {
                alias.Alias = name;
                alias.Origin = AliasOrigins.User;
            }

            var previous = entity.Name;
            entity.Name = name;
            entity.UpdatedAt = time.GetUtcNow();
            Audit(KnowledgeAuditActions.EntityRenamed, id, new { from = previous, to = name });
            await db.SaveChangesAsync(token);
            return true;
        }, ct);

        if (!outcome.Succeeded)
        {
            return outcome.Problem!;
        }

        return (await GetAsync(id, new PageRequest(1, 20), ct))!;
    }

    /// <summary>
    /// Merges the sources into the target: their aliases (kept as user aliases, so re-extraction cannot pull the
    /// names apart again), mentions and relation evidence move to the target, then the sources are deleted. Evidence
    /// that became a relation of the target to itself is dropped, and evidence that now duplicates a row of the same
    /// sentence is kept once. Types may differ (extraction can mistake a project for a system); the target's wins.
    /// </summary>
    public async Task<Outcome<EntityMergeResult>> MergeAsync(Guid targetId, MergeEntitiesRequest request, CancellationToken ct)
    {
        var sources = request.SourceIds?.Distinct().ToArray() ?? [];
        if (new Validation()
                .Check(sources.Length is > 0 and <= MaxMergeSources, nameof(request.SourceIds), $"Give 1 to {MaxMergeSources} entity ids to merge into this one.")
                .Check(!sources.Contains(targetId), nameof(request.SourceIds), "An entity cannot be merged into itself.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        var outcome = await InTransactionAsync<GraphChangeCounts>(async token =>
        {
            var locked = await LockAsync([targetId, .. sources], token);
            if (!locked.Contains(targetId))
            {
                return ApiProblem.NotFound("The entity");
            }

            // Another tenant's id is simply not found: its existence is not disclosed.
            if (sources.Any(s => !locked.Contains(s)))
            {
                return ApiProblem.NotFound("One or more of the entities to merge");
            }

            var target = await db.KnowledgeEntities.SingleAsync(e => e.Id == targetId, token);
            var merged = await db.KnowledgeEntities.AsNoTracking().Where(e => sources.Contains(e.Id)).ToListAsync(token);

            var aliases = await ExecuteAsync("""
                UPDATE knowledge_aliases SET entity_id = @target, origin = 'user'
                WHERE tenant_id = @t AND entity_id = ANY(@sources)
                """, targetId, sources, token);
            var mentions = await ExecuteAsync("""
                UPDATE knowledge_mentions SET entity_id = @target
                WHERE tenant_id = @t AND entity_id = ANY(@sources)
                """, targetId, sources, token);
            var relations = await ExecuteAsync("""
                UPDATE knowledge_relations SET source_entity_id = @target
                WHERE tenant_id = @t AND source_entity_id = ANY(@sources)
                """, targetId, sources, token);
            relations += await ExecuteAsync("""
                UPDATE knowledge_relations SET target_entity_id = @target
                WHERE tenant_id = @t AND target_entity_id = ANY(@sources)
                """, targetId, sources, token);
            await ExecuteAsync("""
                DELETE FROM knowledge_relations
                WHERE tenant_id = @t AND source_entity_id = @target AND target_entity_id = @target
                """, targetId, sources, token);
            await ExecuteAsync("""
                DELETE FROM knowledge_relations r USING knowledge_relations k
                WHERE r.tenant_id = @t AND k.tenant_id = @t
                  AND (r.source_entity_id = @target OR r.target_entity_id = @target)
                  AND k.source_entity_id = r.source_entity_id AND k.target_entity_id = r.target_entity_id AND k.type = r.type
                  AND k.document_id = r.document_id AND k.sentence_index = r.sentence_index AND k.id < r.id
                """, targetId, sources, token);
            await ExecuteAsync("DELETE FROM knowledge_entities WHERE tenant_id = @t AND id = ANY(@sources)", targetId, sources, token);

            // A source's name stays a way to reach the target even when no alias carried it.
            var keys = await db.EntityAliases.Where(a => a.EntityId == targetId).Select(a => a.Key).ToListAsync(token);
            foreach (var source in merged)
            {
                var key = EntityNameKey.Normalize(source.Name);
                if (key.Length > 0 && !keys.Contains(key) && !await db.EntityAliases.AnyAsync(a => a.Key == key, token))
                {
                    db.EntityAliases.Add(new EntityAlias { TenantId = target.TenantId, EntityId = targetId, Alias = source.Name, Key = key, Origin = AliasOrigins.User });
                    keys.Add(key);
                }
            }

            target.Email ??= merged.Select(s => s.Email).FirstOrDefault(e => !string.IsNullOrEmpty(e));
            target.UpdatedAt = time.GetUtcNow();
            Audit(KnowledgeAuditActions.EntitiesMerged, targetId, new { sources = merged.Select(s => new { s.Id, s.Type, s.Name }) });
            await db.SaveChangesAsync(token);
            return new GraphChangeCounts(aliases, mentions, relations);
        }, ct);

        if (!outcome.Succeeded)
        {
            return outcome.Problem!;
        }

        return new EntityMergeResult((await GetAsync(targetId, new PageRequest(1, 20), ct))!, sources, outcome.Value!);
    }

    /// <summary>
    /// Splits names that were wrongly taken for one entity off into a new entity of the same type. Moved: the given
    /// aliases (as user aliases); the mentions whose text normalises to one of them (or is one of them); and each
    /// relation evidence row whose sentence names the entity only through moved mentions, i.e. the sentence has a
    /// moved mention and no mention left with the original. A sentence naming both stays with the original: which
    /// of the two it meant cannot be told, and the original is the conservative choice. At least one alias must
    /// stay; the original is renamed to a remaining alias if its name moved, and its e-mail moves if it was a moved alias.
    /// </summary>
    public async Task<Outcome<EntitySplitResult>> SplitAsync(Guid id, SplitEntityRequest request, CancellationToken ct)
    {
        var requested = request.Aliases?.Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => EntityNameKey.Normalize(CleanName(a))).Where(k => k.Length > 0).Distinct().ToList() ?? [];
        var validation = new Validation()
            .Check(requested.Count is > 0 and <= 100, nameof(request.Aliases), "Give 1 to 100 aliases to move to the new entity.");
        if (ValidateName(request.Name, nameof(request.Name)) is { } invalidName)
        {
            return invalidName;
        }

        if (validation.ToProblem() is { } invalid)
        {
            return invalid;
        }

        var name = CleanName(request.Name!);
        var newKey = EntityNameKey.Normalize(name);
        Guid createdId = Guid.Empty;
        var outcome = await InTransactionAsync<GraphChangeCounts>(async token =>
        {
            if ((await LockAsync([id], token)).Count == 0)
            {
                return ApiProblem.NotFound("The entity");
            }

            var entity = await db.KnowledgeEntities.SingleAsync(e => e.Id == id, token);
            var aliases = await db.EntityAliases.Where(a => a.EntityId == id).ToListAsync(token);
            var unknown = requested.Where(k => aliases.All(a => a.Key != k)).ToList();
            if (unknown.Count > 0)
            {
                return new Validation().Check(false, nameof(request.Aliases), $"Not aliases of this entity: {string.Join(", ", unknown)}.").ToProblem()!;
            }

            var moving = aliases.Where(a => requested.Contains(a.Key)).ToList();
            var staying = aliases.Except(moving).ToList();
            if (staying.Count == 0)
            {
                return new Validation().Check(false, nameof(request.Aliases), "At least one alias must stay with the entity; to change its name, rename it.").ToProblem()!;
            }

            if (staying.Any(a => a.Key == newKey))
            {
                return new Validation().Check(false, nameof(request.Name), "The new name is an alias that stays with this entity.").ToProblem()!;
            }

            if (!moving.Any(a => a.Key == newKey) && await db.EntityAliases.Where(a => a.Key == newKey).Select(a => (Guid?)a.EntityId).FirstOrDefaultAsync(token) is { } holder)
            {
                return NameTaken(name, holder);
            }

            var now = time.GetUtcNow();
            var created = new KnowledgeEntity { TenantId = entity.TenantId, Type = entity.Type, Name = name, CreatedAt = now, UpdatedAt = now };
            createdId = created.Id;
            db.KnowledgeEntities.Add(created);
            foreach (var alias in moving)
            {
                alias.EntityId = created.Id;
                alias.Origin = AliasOrigins.User;
            }

            if (!moving.Any(a => a.Key == newKey))
            {
                db.EntityAliases.Add(new EntityAlias { TenantId = entity.TenantId, EntityId = created.Id, Alias = name, Key = newKey, Origin = AliasOrigins.User });
            }

            var movedKeys = moving.Select(a => a.Key).ToHashSet(StringComparer.Ordinal);
            if (movedKeys.Contains(EntityNameKey.Normalize(entity.Name)))
            {
                entity.Name = staying.OrderByDescending(a => a.Origin == AliasOrigins.User).ThenBy(a => a.CreatedAt).First().Alias;
            }

            if (entity.Email is { Length: > 0 } email && movedKeys.Contains(EntityNameKey.Normalize(email)))
            {
                created.Email = email;
                entity.Email = null;
            }

            entity.UpdatedAt = now;
            await db.SaveChangesAsync(token);

            // Mentions are matched by their surface text, read once per distinct spelling rather than per row.
            var surfaces = new List<string>();
            await using (var command = await CommandAsync("SELECT DISTINCT text FROM knowledge_mentions WHERE tenant_id = @t AND entity_id = @id", token))
            {
                command.Parameters.AddWithValue("id", id);
                await using var reader = await command.ExecuteReaderAsync(token);
                while (await reader.ReadAsync(token))
                {
                    surfaces.Add(reader.GetString(0));
                }
            }

            var movedSpellings = moving.Select(a => a.Alias).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var texts = surfaces.Where(s => movedKeys.Contains(EntityNameKey.Normalize(s)) || movedSpellings.Contains(s.Trim())).ToArray();
            var mentions = 0;
            if (texts.Length > 0)
            {
                await using var command = await CommandAsync("""
                    UPDATE knowledge_mentions SET entity_id = @created
                    WHERE tenant_id = @t AND entity_id = @id AND text = ANY(@texts)
                    """, token);
                command.Parameters.AddWithValue("id", id);
                command.Parameters.AddWithValue("created", created.Id);
                command.Parameters.AddWithValue("texts", texts);
                mentions = await command.ExecuteNonQueryAsync(token);
            }

            var relations = 0;
            foreach (var column in new[] { "source_entity_id", "target_entity_id" })
            {
                await using var command = await CommandAsync($"""
                    UPDATE knowledge_relations r SET {column} = @created
                    WHERE r.tenant_id = @t AND r.{column} = @id
                      AND EXISTS (SELECT 1 FROM knowledge_mentions m WHERE m.tenant_id = @t AND m.entity_id = @created
                                  AND m.document_id = r.document_id AND m.sentence_index = r.sentence_index)
                      AND NOT EXISTS (SELECT 1 FROM knowledge_mentions m WHERE m.tenant_id = @t AND m.entity_id = @id
                                  AND m.document_id = r.document_id AND m.sentence_index = r.sentence_index)
                    """, token);
                command.Parameters.AddWithValue("id", id);
                command.Parameters.AddWithValue("created", created.Id);
                relations += await command.ExecuteNonQueryAsync(token);
            }

            Audit(KnowledgeAuditActions.EntitySplit, id, new { created = created.Id, name, aliases = moving.Select(a => a.Alias) });
            await db.SaveChangesAsync(token);
            return new GraphChangeCounts(moving.Count, mentions, relations);
        }, ct);

        if (!outcome.Succeeded)
        {
            return outcome.Problem!;
        }

        var original = (await SummariesAsync([id], ct)).Single();
        return new EntitySplitResult(original, (await GetAsync(createdId, new PageRequest(1, 20), ct))!, outcome.Value!);
    }

    /// <summary>
    /// Runs a correction in one transaction under the retrying execution strategy, then bumps the tenant's alias
    /// generation once it has committed. A concurrent write of the same alias key (an extraction naming it at that
    /// moment) is a conflict the caller may retry.
    /// </summary>
    private async Task<Outcome<T>> InTransactionAsync<T>(Func<CancellationToken, Task<Outcome<T>>> work, CancellationToken ct)
    {
        Outcome<T> outcome;
        try
        {
            var strategy = db.Database.CreateExecutionStrategy();
            outcome = await strategy.ExecuteAsync(async token =>
            {
                db.ChangeTracker.Clear();
                await using var transaction = await db.Database.BeginTransactionAsync(token);
                var result = await work(token);
                if (result.Succeeded)
                {
                    await transaction.CommitAsync(token);
                }

                return result;
            }, ct);
        }
        catch (Exception e) when (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }
                                   || e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            return new ApiProblem(409, ProblemCodes.Conflict, "A name involved was just given to another entity; reload and try again.");
        }

        if (outcome.Succeeded)
        {
            await aliasCache.InvalidateAsync(TenantId);
        }

        return outcome;
    }

    private async Task<HashSet<Guid>> LockAsync(Guid[] ids, CancellationToken ct)
    {
        await using var command = await CommandAsync(
            "SELECT id FROM knowledge_entities WHERE tenant_id = @t AND id = ANY(@ids) ORDER BY id FOR UPDATE", ct);
        command.Parameters.AddWithValue("ids", ids);
        var locked = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            locked.Add(reader.GetGuid(0));
        }

        return locked;
    }

    private async Task<int> ExecuteAsync(string sql, Guid target, Guid[] sources, CancellationToken ct)
    {
        await using var command = await CommandAsync(sql, ct);
        if (sql.Contains("@target", StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue("target", target);
        }

        if (sql.Contains("@sources", StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue("sources", sources);
        }

        return await command.ExecuteNonQueryAsync(ct);
    }

    private async Task<IReadOnlyList<EntitySummary>> SummariesAsync(Guid[] ids, CancellationToken ct)
    {
        await using var command = await CommandAsync("""
            SELECT e.id, e.type, e.name, e.email, e.created_at, e.updated_at, mc.mentions, mc.documents
            FROM knowledge_entities e
            CROSS JOIN LATERAL (
                SELECT count(*) AS mentions, count(DISTINCT m.document_id) AS documents
                FROM knowledge_mentions m WHERE m.tenant_id = @t AND m.entity_id = e.id
            ) mc
            WHERE e.tenant_id = @t AND e.id = ANY(@ids)
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

    /// <summary>A command on the context's connection and transaction, with the tenant as <c>@t</c>: raw SQL has no query filter, so every statement names it.</summary>
    private async Task<NpgsqlCommand> CommandAsync(string sql, CancellationToken ct)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        if (connection.State != ConnectionState.Open)
        {
            await connection.OpenAsync(ct);
        }

        var command = new NpgsqlCommand(sql, connection, db.Database.CurrentTransaction?.GetDbTransaction() as NpgsqlTransaction);
        command.Parameters.Add(new NpgsqlParameter<Guid>("t", NpgsqlDbType.Uuid) { TypedValue = TenantId });
        return command;
    }

    private void Audit(string action, Guid entityId, object detail) =>
        db.AuditLog.Add(new AuditEntry
        {
            TenantId = TenantId,
            ActorUserId = tenant.UserId,
            Action = action,
            Target = entityId.ToString(),
            Detail = JsonSerializer.Serialize(detail, Json),
            InstanceId = instance.InstanceId,
            At = time.GetUtcNow()
        });

    private static ApiProblem? ValidateName(string? name, string field)
    {
        var validation = new Validation().Require(field, name, MaxNameLength);
        if (!string.IsNullOrWhiteSpace(name) && EntityNameKey.Normalize(CleanName(name)).Length == 0)
        {
            validation.Check(false, field, $"{field} must contain more than an article or a title.");
        }

        return validation.ToProblem();
    }

    private static ApiProblem NameTaken(string name, Guid holder) =>
        new(409, ProblemCodes.Conflict, $"\"{name}\" is already a name of another entity; merge the two instead.")
        {
            Extensions = new Dictionary<string, object?> { ["entityId"] = holder }
        };

    private static string CleanName(string name) => EntityNameKey.CollapseWhitespace(name.Trim());

    /// <summary>The key a search is compared with: normalised like an alias, or just lower-cased when that leaves nothing.</summary>
    private static string SearchKey(string text) =>
        EntityNameKey.Normalize(text) is { Length: > 0 } key ? key : EntityNameKey.CollapseWhitespace(text.Trim().ToLowerInvariant());

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}

public static class AliasOrigins
{
    public const string Extracted = "extracted";
    public const string User = "user";
}

/// <summary>
/// The alias key of a user-given name: the extraction's entity key (<see cref="KnowledgeKeys.Entity"/>), so a name
/// typed in a rename or split meets the same alias as the name found in a document; an article or a title alone,
/// which the extraction key keeps, names nobody and is refused.
/// </summary>
internal static partial class EntityNameKey
{
    public static string Normalize(string name)
    {
        var key = KnowledgeKeys.Entity(name);
        return key == "the" || WordLists.Is(key, WordClass.Honorific) ? "" : key;
    }

    public static string CollapseWhitespace(string value) => Whitespace().Replace(value, " ");

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Whitespace();
}
