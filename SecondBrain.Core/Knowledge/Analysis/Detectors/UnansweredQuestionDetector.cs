using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Unanswered question: a question (a question frame whose sentence ends with "?") in a conversation — an e-mail
/// or a Slack thread, i.e. a document with a thread key — that nobody else answered. An e-mail question is answered
/// when another message replies to it (In-Reply-To its Message-ID) or follows it in the same thread, from a
/// different sender. A Slack question is answered when a later message in its thread (the thread is one document,
/// one "Name: text" line per message) comes from someone other than the asker. A question quoted from an earlier
/// message of the thread belongs to that message.
/// </summary>
public sealed class UnansweredQuestionDetector : IGapDetector
{
    public string Type => GapTypes.UnansweredQuestion;

    public async Task<DetectorOutcome> DetectAsync(AnalysisQueries q, CancellationToken ct)
    {
        await using var command = await q.CommandAsync($"""
            WITH {ChangedCte}
            SELECT f.document_id, f.sentence_index, f.sentence, d.title, d.author, d.source_created_at, k.thread_key,
                   CASE WHEN k.thread_key LIKE 'slack:%' THEN d.text END AS thread_text
            FROM knowledge_frames f
            JOIN changed c ON c.document_id = f.document_id
            JOIN documents d ON d.id = f.document_id AND d.deleted_at IS NULL
            JOIN document_knowledge k ON k.document_id = f.document_id AND k.thread_key IS NOT NULL
            WHERE f.tenant_id = @tenant AND f.type = 'question'
              AND right(rtrim(f.sentence), 1) = '?'
              AND NOT {QuotedEarlier}
              AND (k.thread_key LIKE 'slack:%' OR NOT EXISTS (
                  SELECT 1 FROM documents r
                  JOIN document_knowledge kr ON kr.document_id = r.id
                  WHERE r.tenant_id = @tenant AND r.id <> d.id AND r.deleted_at IS NULL
                    AND lower(coalesce(r.author, '')) <> lower(coalesce(d.author, ''))
                    AND ((kr.thread_key = k.thread_key AND r.source_created_at > d.source_created_at)
                         OR (d.metadata ->> 'messageId' IS NOT NULL AND r.metadata ->> 'inReplyTo' = d.metadata ->> 'messageId'))))
            ORDER BY d.source_created_at DESC NULLS LAST, f.document_id, f.sentence_index
            LIMIT @cap
            """, ct);
        var rows = new List<(Guid DocumentId, int SentenceIndex, string Sentence, string Title, string? Author, DateTimeOffset? At, string ThreadKey, string? ThreadText)>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                rows.Add((reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), NullableString(reader, 4),
                    reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5), reader.GetString(6), NullableString(reader, 7)));
            }
        }

        var kept = new List<(Guid DocumentId, int SentenceIndex, string Sentence, string Title, string? Author, DateTimeOffset? At, string? Asker)>();
        foreach (var row in rows.DistinctBy(r => (r.DocumentId, r.SentenceIndex)))
        {
            string? asker = GapRules.ParseAuthor(row.Author).Name ?? GapRules.ParseAuthor(row.Author).Email;
            if (row.ThreadText is { } thread)
            {
                var (found, speaker, answered) = GapRules.SlackReplies(thread, row.Sentence);
                if (answered)
                {
                    continue;
                }

                if (found && speaker is not null)
                {
                    asker = speaker;
                }
            }

            kept.Add((row.DocumentId, row.SentenceIndex, row.Sentence, row.Title, row.Author, row.At, asker));
        }

        var entities = await q.SentenceEntitiesAsync(kept.Select(r => (r.DocumentId, r.SentenceIndex)), ct);
        var people = await q.PeopleAsync(kept.Select(r => (r.Asker ?? GapRules.ParseAuthor(r.Author).Name, GapRules.ParseAuthor(r.Author).Email)), ct);
        var candidates = kept.Select(row =>
        {
            var evidence = new GapEvidence(row.DocumentId, row.Title, row.Sentence, row.Asker ?? row.Author);
            var related = (entities.GetValueOrDefault((row.DocumentId, row.SentenceIndex)) ?? []).ToList();
            if (Person(people, row.Asker, GapRules.ParseAuthor(row.Author).Email) is { } asker && !related.Contains(asker))
            {
                related.Add(asker);
            }

            return new GapCandidate(
                GapTypes.UnansweredQuestion,
                GapRules.DocumentSentenceKey(row.DocumentId, row.Sentence),
                GapTemplates.UnansweredQuestion(row.Sentence, row.Asker, evidence, row.At),
                [evidence],
                related,
                Priority: 3,
                Confidence: 0.7);
        }).ToList();
        return new DetectorOutcome(new DetectorResult(GapTypes.UnansweredQuestion, candidates, rows.Count >= q.Cap), null);
    }
}
