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
/// Experts on a topic: the people the graph's evidence says know about it.
/// </summary>
public sealed class ExpertRanking(SecondBrainDbContext db)
{
    private const int EvidencePerExpert = 5;

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
                .Require(nameof(topic), topic, EntityQueries.MaxNameLength)
                .Check(limit is >= 1 and <= 50, nameof(limit), "Limit must be between 1 and 50.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        var text = topic!.Trim();
        var key = EntityNameKey.SearchKey(text);

        var matched = new Dictionary<Guid, EntityRef>();
        await using (var command = await CommandAsync("""
            SELECT e.id, e.type, e.name
            FROM knowledge_aliases a
            JOIN knowledge_entities e ON e.id = a.entity_id AND e.tenant_id = a.tenant_id
            WHERE a.tenant_id = @tenant AND e.type <> 'person'
              AND (a.key % @key OR a.key LIKE @pattern OR a.key <% @key)
            GROUP BY e.id, e.type, e.name
            ORDER BY max(greatest(similarity(a.key, @key), word_similarity(a.key, @key))) DESC, e.id
            LIMIT 50
            """, ct))
        {
            command.Parameters.AddWithValue("key", key);
            command.Parameters.AddWithValue("pattern", "%" + EntityNameKey.EscapeLike(key) + "%");
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
                WHERE c.tenant_id = @tenant AND c.search_vector @@ q
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
                WHERE m.tenant_id = @tenant AND m.entity_id = ANY(@entities)
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
            WHERE r.tenant_id = @tenant AND (r.target_entity_id = ANY(@entities) OR r.document_id = ANY(@documents))
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
                WHERE m.tenant_id = @tenant AND m.document_id = ANY(@documents)
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

    private Task<NpgsqlCommand> CommandAsync(string sql, CancellationToken ct) => db.TenantCommandAsync(sql, ct);
}
