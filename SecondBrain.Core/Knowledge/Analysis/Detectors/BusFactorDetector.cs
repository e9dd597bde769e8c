using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Bus factor: a person who is the only named owner (owns relations, from ownership frames and "X is responsible
/// for Y") of at least <see cref="KnowledgeAnalysisOptions.BusFactorMinItems"/> distinct things — things nobody
/// else is recorded as owning. Re-evaluated for people with ownership evidence in changed documents and for those
/// of open bus-factor gaps.
/// </summary>
public sealed class BusFactorDetector : IGapDetector
{
    public string Type => GapTypes.BusFactor;

    /// <summary>The gap names its entities itself (the term, the person); linking by alias would add noise.</summary>
    public bool LinksEntities => false;

    public async Task<DetectorOutcome> DetectAsync(AnalysisQueries q, CancellationToken ct)
    {
        var touched = $"""
            touched AS (
                SELECT r.source_entity_id AS person_id FROM knowledge_relations r JOIN changed c ON c.document_id = r.document_id
                WHERE r.tenant_id = @tenant AND r.type = 'owns'
                UNION
                SELECT g.entity_ids[1] FROM knowledge_gaps g
                WHERE g.tenant_id = @tenant AND g.type = '{GapTypes.BusFactor}' AND NOT g.resolved AND cardinality(g.entity_ids) > 0
            )
            """;
        await using var command = await q.CommandAsync($"""
            WITH {ChangedCte}, {touched},
            best AS (
                -- One item per sentence: "X is responsible for the monthly patching" can yield an ownership and a
                -- process frame; the strongest relation of the sentence is what it says X owns.
                SELECT DISTINCT ON (r.document_id, r.sentence_index, r.source_entity_id)
                       r.id, r.source_entity_id AS person_id, r.target_entity_id AS item_id, r.document_id, r.sentence, r.confidence
                FROM knowledge_relations r
                JOIN touched t ON t.person_id = r.source_entity_id
                JOIN knowledge_entities p ON p.id = r.source_entity_id AND p.tenant_id = @tenant AND p.type = 'person'
                JOIN documents d ON d.id = r.document_id AND d.deleted_at IS NULL
                WHERE r.tenant_id = @tenant AND r.type = 'owns'
                ORDER BY r.document_id, r.sentence_index, r.source_entity_id, r.confidence DESC, r.id
            ),
            owned AS (SELECT DISTINCT person_id, item_id FROM best),
            sole AS (
                SELECT o.person_id, o.item_id FROM owned o
                WHERE NOT EXISTS (
                    SELECT 1 FROM knowledge_relations r2
                    WHERE r2.tenant_id = @tenant AND r2.type = 'owns' AND r2.target_entity_id = o.item_id AND r2.source_entity_id <> o.person_id)
            ),
            people AS (
                SELECT person_id, count(*) AS items FROM sole GROUP BY person_id HAVING count(*) >= @minItems
                ORDER BY count(*) DESC, person_id LIMIT @cap
            ),
            evidence AS (
                SELECT s.person_id, s.item_id, e.name AS item, r.document_id, r.sentence, d.title, d.author,
                       row_number() OVER (PARTITION BY s.person_id, s.item_id ORDER BY r.confidence DESC, d.source_created_at NULLS LAST, r.id) AS n
                FROM sole s
                JOIN people p ON p.person_id = s.person_id
                JOIN knowledge_entities e ON e.id = s.item_id AND e.tenant_id = @tenant
                JOIN best r ON r.person_id = s.person_id AND r.item_id = s.item_id
                JOIN documents d ON d.id = r.document_id
            )
            SELECT ev.person_id, pe.name, p.items, ev.item_id, ev.item, ev.document_id, ev.sentence, ev.title, ev.author
            FROM evidence ev
            JOIN people p ON p.person_id = ev.person_id
            JOIN knowledge_entities pe ON pe.id = ev.person_id
            WHERE ev.n = 1
            ORDER BY p.items DESC, ev.person_id, ev.item
            """, ct);
        command.Parameters.AddWithValue("minItems", (long)q.Options.BusFactorMinItems);
        var rows = new List<(Guid Person, string Name, long Items, Guid ItemId, string Item, Guid DocumentId, string Sentence, string Title, string? Author)>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                rows.Add((reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2), reader.GetGuid(3), reader.GetString(4), reader.GetGuid(5),
                    reader.GetString(6), reader.GetString(7), NullableString(reader, 8)));
            }
        }

        var candidates = rows.GroupBy(r => (r.Person, r.Name)).Select(person =>
        {
            var items = person.ToList();
            var evidence = items.Take(q.Options.MaxEvidencePerGap).Select(i => new GapEvidence(i.DocumentId, i.Title, i.Sentence, i.Author)).ToList();
            return new GapCandidate(
                GapTypes.BusFactor,
                person.Key.Person.ToString("N"),
                GapTemplates.BusFactor(person.Key.Name, items.Select(i => i.Item).ToList()),
                evidence,
                [person.Key.Person, .. items.Select(i => i.ItemId).Take(20)],
                Priority: items.Count >= q.Options.BusFactorMinItems * 3 / 2 ? 5 : 4,
                Confidence: Math.Round(Math.Min(0.95, 0.5 + (0.05 * items.Count)), 2));
        }).ToList();

        var scope = $"""
            WITH {ChangedCte}, {touched}
            SELECT replace(person_id::text, '-', '') AS key FROM touched
            """;
        return new DetectorOutcome(new DetectorResult(GapTypes.BusFactor, candidates, candidates.Count >= q.Cap), scope);
    }
}
