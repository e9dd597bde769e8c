using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Missing owner: a recurring process (a process frame with a frequency: "every Friday", "monthly") whose owner
/// slot is empty, where nothing in the same sentence names an owner (an ownership frame or an owns relation), no
/// frame anywhere names an owner for the same object, and no owns relation points at an entity of that name.
/// One-off mentions of a process ("see the runbook") are not gaps: it is the recurring work nobody owns that
/// silently stops (a certificate nobody renews). A sentence that defines a term ("MRR stands for monthly recurring
/// revenue") is not a process.
/// </summary>
public sealed class MissingOwnerDetector : IGapDetector
{
    public string Type => GapTypes.MissingOwner;

    public async Task<DetectorOutcome> DetectAsync(AnalysisQueries q, CancellationToken ct)
    {
        var rows = await q.FrameRowsAsync($"""
            WITH {ChangedCte}
            SELECT f.document_id, f.sentence_index, f.sentence, f.slots::text, f.trigger, f.negated, f.confidence, d.title, d.author, d.source_created_at
            FROM knowledge_frames f
            JOIN changed c ON c.document_id = f.document_id
            JOIN documents d ON d.id = f.document_id AND d.deleted_at IS NULL AND d.source <> '{AnswerSource}'
            LEFT JOIN document_knowledge k ON k.document_id = f.document_id
            WHERE f.tenant_id = @tenant AND f.type = 'process' AND NOT f.negated
              AND 'owner' = ANY(f.missing_slots) AND f.slots ? 'object'
              AND (f.slots ? 'frequency'
                   OR f.trigger ~* '^(every|each|once|twice|on (mon|tues|wednes|thurs|fri|satur|sun)days)\M'
                   OR f.trigger ~* '^(daily|weekly|biweekly|bi-weekly|monthly|quarterly|yearly|annually|hourly|nightly)$')
              AND f.confidence >= @minConfidence
              AND right(rtrim(f.sentence), 1) <> '?'
              AND NOT EXISTS (
                  SELECT 1 FROM knowledge_frames o
                  WHERE o.tenant_id = @tenant AND o.document_id = f.document_id AND o.sentence_index = f.sentence_index
                    AND o.slots ? 'owner' AND NOT o.negated)
              AND NOT EXISTS (
                  SELECT 1 FROM knowledge_relations r
                  WHERE r.tenant_id = @tenant AND r.document_id = f.document_id AND r.sentence_index = f.sentence_index AND r.type = 'owns')
              AND NOT EXISTS (
                  SELECT 1 FROM knowledge_frames o
                  WHERE o.tenant_id = @tenant AND o.document_id = f.document_id AND o.sentence_index = f.sentence_index AND o.type = 'definition')
              AND NOT EXISTS (
                  SELECT 1 FROM knowledge_frames o
                  WHERE o.tenant_id = @tenant AND o.id <> f.id AND o.slots ? 'owner' AND NOT o.negated
                    AND {Norm("o.slots->>'object'")} = {Norm("f.slots->>'object'")})
              AND NOT EXISTS (
                  SELECT 1 FROM knowledge_relations r
                  JOIN knowledge_aliases a ON a.entity_id = r.target_entity_id AND a.tenant_id = @tenant
                  WHERE r.tenant_id = @tenant AND r.type = 'owns' AND a.key = {Norm("f.slots->>'object'")})
              AND NOT {QuotedEarlier}
            ORDER BY f.document_id, f.sentence_index
            LIMIT @cap
            """, ct);

        var candidates = new List<GapCandidate>();
        var entities = await q.SentenceEntitiesAsync(rows.Select(r => (r.DocumentId, r.SentenceIndex)), ct);
        var topics = await q.TopicEntitiesAsync(rows.Select(r => r.Slot("object")), ct);
        foreach (var row in rows.DistinctBy(r => (r.DocumentId, r.SentenceIndex)))
        {
            var evidence = new GapEvidence(row.DocumentId, row.Title, row.Sentence, row.Author);
            candidates.Add(new GapCandidate(
                GapTypes.MissingOwner,
                GapRules.DocumentSentenceKey(row.DocumentId, row.Sentence),
                GapTemplates.MissingOwner(row.Slot("object") ?? row.Sentence, row.Slot("frequency") ?? row.Trigger, evidence),
                [evidence],
                Related(topics, row.Slot("object"), entities.GetValueOrDefault((row.DocumentId, row.SentenceIndex))),
                Priority: 4,
                Confidence: Math.Round(Math.Clamp(row.Confidence, 0.5, 0.9), 2)));
        }

        return new DetectorOutcome(new DetectorResult(GapTypes.MissingOwner, candidates, rows.Count >= q.Cap), null);
    }
}
