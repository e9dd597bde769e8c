using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Missing rationale: a decision frame (not a question) whose required rationale slot is empty — the extractor
/// already counts a reason in the next sentence ("The reason is ...") — with a known object, whose next sentence
/// does not explain it either (it opens with "This", "It", "The reason", "Because" and carries a rationale: "This
/// was mainly because ..."), and no other decision anywhere in the tenant about the same object gives a reason. A sentence quoted from an
/// earlier message of the same thread is the earlier message's gap, not a new one.
/// </summary>
public sealed class MissingRationaleDetector : IGapDetector
{
    public string Type => GapTypes.MissingRationale;

    /// <summary>Triggers that are as often adjectives or a system's doing as a decision: they count only with someone deciding.</summary>
    private static readonly HashSet<string> WeakTriggers = new(StringComparer.Ordinal) { "rejected", "is final", "approved", "selected", "chose", "adopted", "go with" };

    private static bool DecidedBySomeone(string? agent) =>
        agent is { Length: > 0 } a && (System.Text.RegularExpressions.Regex.IsMatch(a, @"^(we|i|they|the team|our team|management|leadership|the board)\b",
            System.Text.RegularExpressions.RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1)) || char.IsUpper(a[0]) && !a.StartsWith("Our ", StringComparison.Ordinal) && !a.StartsWith("The ", StringComparison.Ordinal));

    public async Task<DetectorOutcome> DetectAsync(AnalysisQueries q, CancellationToken ct)
    {
        var rows = await q.FrameRowsAsync($"""
            WITH {ChangedCte}
            SELECT f.document_id, f.sentence_index, f.sentence, f.slots::text, f.trigger, f.negated, f.confidence, d.title, d.author, d.source_created_at
            FROM knowledge_frames f
            JOIN changed c ON c.document_id = f.document_id
            JOIN documents d ON d.id = f.document_id AND d.deleted_at IS NULL AND d.source <> '{AnswerSource}'
            LEFT JOIN document_knowledge k ON k.document_id = f.document_id
            WHERE f.tenant_id = @tenant AND f.type = 'decision'
              AND 'rationale' = ANY(f.missing_slots) AND f.slots ? 'object'
              AND f.confidence >= @minConfidence
              AND right(rtrim(f.sentence), 1) <> '?'
              AND NOT EXISTS (
                  SELECT 1 FROM knowledge_frames o
                  WHERE o.tenant_id = @tenant AND o.type = 'decision' AND o.id <> f.id AND o.slots ? 'rationale'
                    AND {Norm("o.slots->>'object'")} = {Norm("f.slots->>'object'")})
              AND NOT EXISTS (
                  SELECT 1 FROM knowledge_frames n
                  WHERE n.tenant_id = @tenant AND n.document_id = f.document_id AND n.sentence_index = f.sentence_index + 1
                    AND n.slots ? 'rationale' AND n.sentence ~* '^\W*(this|that|it|which|the (main )?reason|mainly|because|since)\M')
              AND NOT {QuotedEarlier}
            ORDER BY f.document_id, f.sentence_index
            LIMIT @cap
            """, ct);

        var candidates = new List<GapCandidate>();
        var entities = await q.SentenceEntitiesAsync(rows.Select(r => (r.DocumentId, r.SentenceIndex)), ct);
        var topics = await q.TopicEntitiesAsync(rows.Select(r => r.Slot("object")), ct);
        foreach (var row in rows.DistinctBy(r => (r.DocumentId, r.SentenceIndex)))
        {
            if (WeakTriggers.Contains(row.Trigger) && !DecidedBySomeone(row.Slot("agent")))
            {
                // "Our parser rejected the message", "no rejected declarations", "the PDF is final": no one decided anything.
                continue;
            }

            var evidence = new GapEvidence(row.DocumentId, row.Title, row.Sentence, row.Author);
            var decided = WithoutTime(row.Slot("object"), row.Slot("time"));
            candidates.Add(new GapCandidate(
                GapTypes.MissingRationale,
                GapRules.DocumentSentenceKey(row.DocumentId, row.Sentence),
                GapTemplates.MissingRationale(row.Slot("agent"), decided, row.Trigger, row.Negated, evidence),
                [evidence],
                Related(topics, row.Slot("object"), entities.GetValueOrDefault((row.DocumentId, row.SentenceIndex))),
                Priority: 3,
                Confidence: Math.Round(Math.Clamp(row.Confidence, 0.4, 0.9), 2)));
        }

        return new DetectorOutcome(new DetectorResult(GapTypes.MissingRationale, candidates, rows.Count >= q.Cap), null);
    }
}
