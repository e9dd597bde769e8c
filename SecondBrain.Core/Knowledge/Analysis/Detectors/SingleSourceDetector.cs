using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Single-source knowledge: operational knowledge — where credentials or secrets live, how to perform an
/// operation ("To rotate X, do Y"), where something is stored, step-by-step instructions — that exactly one
/// document states: no chunk of any other document (outside its own thread, whose replies merely quote it)
/// contains all of the sentence's words. Read from the documents' indexed text, so it does not depend on what the
/// extractor recognised in the sentence. One gap per document, with its single-source sentences as evidence.
/// Re-evaluated for changed documents and for documents of open single-source gaps (a restatement may have
/// appeared, e.g. an answer to the gap).
/// </summary>
public sealed class SingleSourceDetector : IGapDetector
{
    public string Type => GapTypes.SingleSource;

    public async Task<DetectorOutcome> DetectAsync(AnalysisQueries q, CancellationToken ct)
    {
        const string operational = @"(credential|password|passphrase|secret|api[ -]?key|private key|ssh key|access key|recovery code|break[- ]glass|vault|keychain|\m2fa\M|\mmfa\M)"
            + @"|\m(to|in order to)\s+[a-z]+[^,.;\n]{3,120},"
            + @"|\m(is|are)\s+(stored|kept|located|saved|documented)\s+(in|on|at|under)\M"
            + @"|\m(steps? (to|for)|how to|procedure (to|for)|instructions (to|for))\M";
        var examined = $"""
            SELECT document_id FROM changed
            UNION
            SELECT (e ->> 'documentId')::uuid FROM knowledge_gaps g CROSS JOIN LATERAL jsonb_array_elements(g.evidence) e
            WHERE g.tenant_id = @tenant AND g.type = '{GapTypes.SingleSource}' AND NOT g.resolved
            """;
        var (sentences, capped) = await q.TextSentencesAsync(examined, operational, GapRules.IsOperationalKnowledge, ct);
        sentences = sentences.DistinctBy(s => (s.DocumentId, GapRules.SentenceKey(s.Sentence))).ToList();

        // Restated elsewhere: another document's chunk (outside the thread) holds every word of the sentence.
        var restated = new HashSet<int>();
        if (sentences.Count > 0)
        {
            await using var command = await q.CommandAsync("""
                SELECT s.i FROM unnest(@documents, @sentences) WITH ORDINALITY AS s(document_id, sentence, i)
                LEFT JOIN document_knowledge k ON k.document_id = s.document_id
                WHERE EXISTS (
                    SELECT 1 FROM chunks ch
                    JOIN documents d2 ON d2.id = ch.document_id AND d2.deleted_at IS NULL
                    LEFT JOIN document_knowledge k2 ON k2.document_id = d2.id
                    WHERE ch.tenant_id = @tenant AND ch.document_id <> s.document_id
                      AND (k.thread_key IS NULL OR k2.thread_key IS DISTINCT FROM k.thread_key)
                      AND ch.search_vector @@ plainto_tsquery('english', s.sentence))
                """, ct);
            command.Parameters.AddWithValue("documents", sentences.Select(s => s.DocumentId).ToArray());
            command.Parameters.AddWithValue("sentences", sentences.Select(s => s.Sentence).ToArray());
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                restated.Add((int)reader.GetInt64(0) - 1);
            }
        }

        var kept = sentences.Where((_, i) => !restated.Contains(i)).ToList();
        var people = await q.PeopleAsync(kept.Select(s => (s.Speaker ?? GapRules.ParseAuthor(s.Author).Name, GapRules.ParseAuthor(s.Author).Email)), ct);
        var candidates = kept.GroupBy(s => s.DocumentId).Select(document =>
        {
            var items = document.Take(q.Options.MaxEvidencePerGap).ToList();
            var first = items[0];
            var holder = first.Speaker ?? GapRules.ParseAuthor(first.Author).Name;
            var evidence = items.Select(s => new GapEvidence(s.DocumentId, s.Title, s.Sentence, s.Speaker ?? s.Author)).ToList();
            List<Guid> related = [];
            if (Person(people, holder, GapRules.ParseAuthor(first.Author).Email) is { } person)
            {
                related.Add(person);
            }

            return new GapCandidate(
                GapTypes.SingleSource,
                document.Key.ToString("N"),
                GapTemplates.SingleSource(evidence, holder),
                evidence,
                related,
                Priority: items.Any(s => GapRules.MentionsSecrets(s.Sentence)) ? 4 : 3,
                Confidence: 0.6);
        }).ToList();

        var scope = $"""
            WITH {ChangedCte}
            SELECT replace(x.document_id::text, '-', '') AS key FROM ({examined}) x
            """;
        return new DetectorOutcome(new DetectorResult(GapTypes.SingleSource, candidates, capped), scope);
    }
}
