using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Undefined term: an acronym, tag ("[HF-HOLD]"), letter-digit code ("PX-3") or code name introduced as a project
/// ("Project Tidewater") used (in the text, not headers) in at least
/// <see cref="KnowledgeAnalysisOptions.UndefinedTermMinDocuments"/> documents and
/// <see cref="KnowledgeAnalysisOptions.UndefinedTermMinMentions"/> times, that no definition anywhere defines ("X stands
/// for", "Launch Readiness Review (LRR)", a glossary table row, a bold "**X**: ..." line, "X (explanation)"), that the
/// tenant's glossary does not list, that names no person or organisation, and that is not a well-known acronym
/// (<see cref="KnownAcronyms"/>). Re-evaluated for acronyms named or defined in changed documents and for those of
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
                JOIN knowledge_entities e ON e.id = m.entity_id AND e.tenant_id = @tenant AND e.type IN ('acronym', 'project')
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
            ),
            terms AS (
                -- What the term is called bare: "[HF-HOLD]" is hf-hold, "Project Tidewater" is tidewater.
                SELECT e.id, e.name, e.type, u.mentions, u.documents,
                       regexp_replace(lower(btrim(e.name, '[]')), '^project\s+|\s+project$', '') AS bare
                FROM usage u
                JOIN knowledge_entities e ON e.id = u.entity_id AND e.tenant_id = @tenant AND e.type IN ('acronym', 'project')
            ),
            code_names AS (
                -- A project counts as a code name only where the team introduces it as one ("Project Tidewater").
                SELECT DISTINCT regexp_replace(lower(m.text), '^project\s+|\s+project$', '') AS bare
                FROM knowledge_mentions m
                JOIN knowledge_entities e ON e.id = m.entity_id AND e.tenant_id = @tenant AND e.type = 'project'
                WHERE m.tenant_id = @tenant AND (m.text ~* '^project\s+\S+$' OR m.text ~* '^\S+\s+project$')
                LIMIT 2000
            ),
            grouped AS (
                SELECT min(t.id::text)::uuid AS id, min(t.name) FILTER (WHERE t.type = 'acronym' OR t.name !~* 'project') AS name, t.bare,
                       sum(t.mentions)::bigint AS mentions, max(t.documents)::bigint AS documents, bool_or(t.type = 'acronym') AS acronym
                FROM terms t
                GROUP BY t.bare
            )
            SELECT g.id, coalesce(g.name, g.bare), g.mentions, g.documents, g.bare
            FROM grouped g
            WHERE g.documents >= @minDocuments AND g.mentions >= @minMentions
              AND length(g.bare) >= 2 AND g.bare ~ '[a-z]'
              AND (g.acronym OR g.bare IN (SELECT bare FROM code_names))
              AND NOT (g.bare = ANY(@common)) AND NOT (regexp_replace(g.bare, '([a-z0-9][a-z0-9])s$', '\1') = ANY(@common))
              AND NOT EXISTS (
                  SELECT 1 FROM knowledge_frames f
                  WHERE f.tenant_id = @tenant AND f.type = 'definition'
                    AND (lower(btrim(f.slots ->> 'termKey', '[]')) IN (g.bare, regexp_replace(g.bare, '([a-z0-9][a-z0-9])s$', '\1'))
                         OR lower(btrim(f.slots ->> 'term', '[]')) = g.bare
                         OR split_part(lower(f.slots ->> 'termKey'), ' ', 1) = g.bare))
              AND NOT EXISTS (
                  SELECT 1 FROM knowledge_aliases a JOIN knowledge_entities o ON o.id = a.entity_id AND o.type IN ('person', 'organization')
                  WHERE a.tenant_id = @tenant AND a.key = g.bare)
              AND NOT EXISTS (SELECT 1 FROM glossary gl WHERE gl.tenant_id = @tenant AND lower(btrim(gl.term, '[]')) = g.bare)
            ORDER BY g.documents DESC, g.mentions DESC, g.id
            LIMIT @cap
            """, ct);
        command.Parameters.AddWithValue("minDocuments", (long)q.Options.UndefinedTermMinDocuments);
        command.Parameters.AddWithValue("minMentions", (long)q.Options.UndefinedTermMinMentions);
        command.Parameters.AddWithValue("common", KnownAcronyms.All.ToArray());
        var terms = new List<(Guid Id, string Name, long Mentions, long Documents, string Key)>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                terms.Add((reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetString(4)));
            }
        }

        var evidence = await q.MentionEvidenceAsync(terms.Select(t => t.Id).ToArray(), ct);
        var candidates = terms.Select(term =>
        {
            var quotes = evidence.GetValueOrDefault(term.Id) ?? [];
            return new GapCandidate(
                GapTypes.UndefinedTerm,
                term.Key,
                GapTemplates.UndefinedTerm(term.Name, term.Mentions, term.Documents, quotes),
                quotes,
                [term.Id],
                Priority: term.Documents >= 4 || term.Mentions >= 6 ? 3 : 2,
                Confidence: Math.Round(Math.Min(0.9, 0.55 + (0.05 * term.Documents)), 2));
        }).ToList();

        var scope = $"""
            WITH {ChangedCte}, {touched}
            SELECT regexp_replace(lower(btrim(e.name, '[]')), '^project\s+|\s+project$', '') AS key
            FROM touched t JOIN knowledge_entities e ON e.id = t.entity_id AND e.tenant_id = @tenant
            """;
        return new DetectorOutcome(new DetectorResult(GapTypes.UndefinedTerm, candidates, terms.Count >= q.Cap), scope);
    }
}
