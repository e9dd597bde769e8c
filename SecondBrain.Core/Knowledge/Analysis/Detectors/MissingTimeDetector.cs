using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Missing time: a commitment — a sentence that says what will be done ("we will", "is going to", "plan to") —
/// with no time anywhere in it: no time slot on its frames and no date, month, weekday, quarter or relative time
/// in the text. Candidates are decision and event frames that commit to something, and every sentence of a changed
/// document in which the team commits ("We will ...", "We are going to ...") whatever the extractor made of it
/// (read from the document's indexed text). Past decisions are not commitments (the document dates them);
/// questions are not either; a sentence quoted from an earlier message of the same thread is that message's.
/// </summary>
public sealed class MissingTimeDetector : IGapDetector
{
    public string Type => GapTypes.MissingTime;

    public async Task<DetectorOutcome> DetectAsync(AnalysisQueries q, CancellationToken ct)
    {
        const string commitment = @"\m(will|shall|going to|plans? to|planned to|planning to|intends? to|aims? to|committed to)\M|\w'll\M";
        await using var command = await q.CommandAsync($"""
            WITH {ChangedCte}
            SELECT DISTINCT ON (f.document_id, f.sentence_index) f.document_id, f.sentence, d.title, d.author, k.thread_key, d.source_created_at
            FROM knowledge_frames f
            JOIN changed c ON c.document_id = f.document_id
            JOIN documents d ON d.id = f.document_id AND d.deleted_at IS NULL AND d.source <> '{AnswerSource}'
            LEFT JOIN document_knowledge k ON k.document_id = f.document_id
            WHERE f.tenant_id = @tenant AND f.type IN ('decision', 'event') AND NOT f.negated AND NOT (f.slots ? 'time')
              AND f.confidence >= @minConfidence AND f.sentence ~* @commitment
              AND NOT EXISTS (SELECT 1 FROM knowledge_frames t
                              WHERE t.tenant_id = @tenant AND t.document_id = f.document_id AND t.sentence_index = f.sentence_index AND t.slots ? 'time')
            ORDER BY f.document_id, f.sentence_index
            LIMIT @cap
            """, ct);
        command.Parameters.AddWithValue("commitment", commitment);
        var sentences = new List<TextSentence>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                sentences.Add(new TextSentence(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), NullableString(reader, 3),
                    NullableString(reader, 4), reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5), null));
            }
        }

        var capped = sentences.Count >= q.Cap;
        var (fromText, textCapped) = await q.TextSentencesAsync(
            $"SELECT document_id FROM changed",
            @"\m(we|team)\s+(will|shall|are going to|plans? to|intends? to|aims? to)\M|\mwe'll\M",
            GapRules.IsTeamCommitment, ct);
        sentences.AddRange(fromText);
        var kept = sentences
            .Where(s => GapRules.IsCommitment(s.Sentence) && !GapRules.HasTimeExpression(s.Sentence))
            .DistinctBy(s => (s.DocumentId, GapRules.SentenceKey(s.Sentence)))
            .ToList();
        var quoted = await q.QuotedInEarlierMessageAsync(kept, ct);
        var candidates = kept.Where((_, i) => !quoted.Contains(i)).Select(row =>
        {
            var evidence = new GapEvidence(row.DocumentId, row.Title, row.Sentence, row.Speaker ?? row.Author);
            return new GapCandidate(
                GapTypes.MissingTime,
                GapRules.DocumentSentenceKey(row.DocumentId, row.Sentence),
                GapTemplates.MissingTime(evidence),
                [evidence],
                [],
                Priority: 3,
                Confidence: 0.6);
        }).ToList();
        return new DetectorOutcome(new DetectorResult(GapTypes.MissingTime, candidates, capped || textCapped), null);
    }
}
