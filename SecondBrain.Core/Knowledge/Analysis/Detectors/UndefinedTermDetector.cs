using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Undefined term: an acronym entity used (in the text, not headers) in at least
/// <see cref="KnowledgeAnalysisOptions.UndefinedTermMinDocuments"/> documents and
/// <see cref="KnowledgeAnalysisOptions.UndefinedTermMinMentions"/> times, that no definition frame defines ("X stands
/// for", "Launch Readiness Review (LRR)"), that the tenant's glossary does not list, and that is not a
/// universally known acronym. Re-evaluated for acronyms named or defined in changed documents and for those of
/// open undefined-term gaps (a glossary entry may have appeared).
/// </summary>
public sealed class UndefinedTermDetector : IGapDetector
{
    public string Type => GapTypes.UndefinedTerm;

    /// <summary>The gap names its entities itself (the term, the person); linking by alias would add noise.</summary>
    public bool LinksEntities => false;

    public async Task<DetectorOutcome> DetectAsync(AnalysisQueries q, CancellationToken ct)
    {
        var touched = $"""
            touched AS (
                SELECT m.entity_id FROM knowledge_mentions m JOIN changed c ON c.document_id = m.document_id
                JOIN knowledge_entities e ON e.id = m.entity_id AND e.tenant_id = @tenant AND e.type = 'acronym'
                WHERE m.tenant_id = @tenant AND NOT m.from_header
                UNION
                SELECT a.entity_id FROM knowledge_frames f JOIN changed c ON c.document_id = f.document_id
                JOIN knowledge_aliases a ON a.tenant_id = @tenant AND a.key = lower(f.slots ->> 'termKey')
                WHERE f.tenant_id = @tenant AND f.type = 'definition'
                UNION
                SELECT g.entity_ids[1] FROM knowledge_gaps g
                WHERE g.tenant_id = @tenant AND g.type = '{GapTypes.UndefinedTerm}' AND NOT g.resolved AND cardinality(g.entity_ids) > 0
            )
            """;
        await using var command = await q.CommandAsync($"""
            WITH {ChangedCte}, {touched},
            usage AS (
                SELECT m.entity_id, count(*) AS mentions, count(DISTINCT m.document_id) AS documents
                FROM knowledge_mentions m
                JOIN touched t ON t.entity_id = m.entity_id
                JOIN documents d ON d.id = m.document_id AND d.deleted_at IS NULL
                WHERE m.tenant_id = @tenant AND NOT m.from_header
                GROUP BY m.entity_id
            )
            SELECT e.id, e.name, u.mentions, u.documents
            FROM usage u
            JOIN knowledge_entities e ON e.id = u.entity_id AND e.tenant_id = @tenant AND e.type = 'acronym'
            WHERE u.documents >= @minDocuments AND u.mentions >= @minMentions
              AND length(e.name) >= 2 AND e.name ~ '[A-Za-z]'
              AND NOT (lower(e.name) = ANY(@common))
              AND NOT EXISTS (
                  SELECT 1 FROM knowledge_frames f
                  WHERE f.tenant_id = @tenant AND f.type = 'definition'
                    AND (lower(f.slots ->> 'termKey') = lower(e.name)
                         OR lower(f.slots ->> 'term') = lower(e.name)
                         OR lower(f.slots ->> 'termKey') IN (SELECT a.key FROM knowledge_aliases a WHERE a.tenant_id = @tenant AND a.entity_id = e.id)))
              AND NOT EXISTS (SELECT 1 FROM glossary gl WHERE gl.tenant_id = @tenant AND lower(gl.term) = lower(e.name))
            ORDER BY u.documents DESC, u.mentions DESC, e.id
            LIMIT @cap
            """, ct);
        command.Parameters.AddWithValue("minDocuments", (long)q.Options.UndefinedTermMinDocuments);
        command.Parameters.AddWithValue("minMentions", (long)q.Options.UndefinedTermMinMentions);
        command.Parameters.AddWithValue("common", CommonAcronyms);
        var terms = new List<(Guid Id, string Name, long Mentions, long Documents)>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                terms.Add((reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)));
            }
        }

        var evidence = await q.MentionEvidenceAsync(terms.Select(t => t.Id).ToArray(), ct);
        var candidates = terms.Select(term =>
        {
            var quotes = evidence.GetValueOrDefault(term.Id) ?? [];
            return new GapCandidate(
                GapTypes.UndefinedTerm,
                term.Name.Trim().ToLowerInvariant(),
                GapTemplates.UndefinedTerm(term.Name, term.Mentions, term.Documents, quotes),
                quotes,
                [term.Id],
                Priority: term.Documents >= 4 || term.Mentions >= 6 ? 3 : 2,
                Confidence: Math.Round(Math.Min(0.9, 0.55 + (0.05 * term.Documents)), 2));
        }).ToList();

        var scope = $"""
            WITH {ChangedCte}, {touched}
            SELECT lower(btrim(e.name)) AS key FROM touched t JOIN knowledge_entities e ON e.id = t.entity_id AND e.tenant_id = @tenant
            """;
        return new DetectorOutcome(new DetectorResult(GapTypes.UndefinedTerm, candidates, terms.Count >= q.Cap), scope);
    }
}
