using System.Text.RegularExpressions;
using NpgsqlTypes;
using SecondBrain.Core.Knowledge.Analysis.Rules;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Unanswered question: a question ("?") asked in a changed document that nothing answers (<see cref="AnswerRules"/>):
/// not a later message of the same conversation by someone else (a Slack thread, a chat export, the sentences after it
/// in a wiki page or ticket), and not a sentence of any later document of the tenant (a reply mail, a separate chat
/// message two days later), found by full-text search on the question's words and then checked for taking up what is
/// asked. A reply that only jokes about the question's topic does not answer it. A question quoted from an earlier
/// message of its thread belongs to that message.
/// </summary>
public sealed partial class UnansweredQuestionDetector : IGapDetector
{
    private const int CandidatesPerQuestion = 40;

    public string Type => GapTypes.UnansweredQuestion;

    private sealed record Question(Guid DocumentId, int SentenceIndex, string Sentence, string Title, string? Author, DateTimeOffset? At, bool Mail);

    public async Task<DetectorOutcome> DetectAsync(AnalysisQueries q, CancellationToken ct)
    {
        var questions = new List<Question>();
        await using (var command = await q.CommandAsync($"""
            WITH {ChangedCte}
            SELECT f.document_id, f.sentence_index, f.sentence, d.title, d.author, d.source_created_at, d.metadata ->> 'messageId' IS NOT NULL
            FROM knowledge_frames f
            JOIN changed c ON c.document_id = f.document_id
            JOIN documents d ON d.id = f.document_id AND d.deleted_at IS NULL AND d.source <> '{AnswerSource}'
            LEFT JOIN document_knowledge k ON k.document_id = f.document_id
            WHERE f.tenant_id = @tenant AND f.type = 'question' AND right(rtrim(f.sentence), 1) = '?' AND length(f.sentence) >= 15
              AND NOT {QuotedEarlier}
            ORDER BY d.source_created_at DESC NULLS LAST, f.document_id, f.sentence_index
            LIMIT @cap
            """, ct))
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                questions.Add(new Question(reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), NullableString(reader, 4),
                    reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5), reader.GetBoolean(6)));
            }
        }

        questions = questions.DistinctBy(x => (x.DocumentId, GapRules.SentenceKey(x.Sentence))).ToList();
        var texts = await q.DocumentTextsAsync(questions.Select(x => x.DocumentId).Distinct().ToArray(), ct);
        var focus = questions.Select(x => AnswerRules.FocusOf(x.Sentence)).ToList();
        var elsewhere = await LaterSentencesAsync(q, questions, focus, ct);

        var kept = new List<(Question Question, string? Asker)>();
        for (var i = 0; i < questions.Count; i++)
        {
            var question = questions[i];
            var (asker, answeredHere) = InDocument(question, focus[i], texts.GetValueOrDefault(question.DocumentId));
            if (answeredHere || elsewhere[i].Any(s => AnswerRules.Answers(question.Sentence, focus[i], s)))
            {
                continue;
            }

            kept.Add((question, asker ?? GapRules.ParseAuthor(question.Author).Name ?? GapRules.ParseAuthor(question.Author).Email));
        }

        var entities = await q.SentenceEntitiesAsync(kept.Select(r => (r.Question.DocumentId, r.Question.SentenceIndex)), ct);
        var people = await q.PeopleAsync(kept.Select(r => (r.Asker, GapRules.ParseAuthor(r.Question.Author).Email)), ct);
        var candidates = kept.Select(row =>
        {
            var (question, asker) = row;
            var evidence = new GapEvidence(question.DocumentId, question.Title, question.Sentence, asker ?? question.Author);
            var related = (entities.GetValueOrDefault((question.DocumentId, question.SentenceIndex)) ?? []).ToList();
            if (Person(people, asker, GapRules.ParseAuthor(question.Author).Email) is { } person && !related.Contains(person))
            {
                related.Add(person);
            }

            return new GapCandidate(
                GapTypes.UnansweredQuestion,
                GapRules.DocumentSentenceKey(question.DocumentId, question.Sentence),
                GapTemplates.UnansweredQuestion(question.Sentence, asker, evidence, question.At),
                [evidence],
                related,
                Priority: 3,
                Confidence: 0.7);
        }).ToList();
        return new DetectorOutcome(new DetectorResult(GapTypes.UnansweredQuestion, candidates, questions.Count >= q.Cap), null);
    }

    /// <summary>
    /// Who asked (the speaker of the question's message, in a conversation) and whether a later sentence of the same
    /// document answers: one by another speaker in a conversation, one of the next few in a page or ticket; in an
    /// e-mail the rest of the mail is the asker's own, so replies are other documents.
    /// </summary>
    private static (string? Asker, bool Answered) InDocument(Question question, AnswerRules.Focus focus, string? text)
    {
        if (text is null)
        {
            return (null, false);
        }

        var spans = SentenceSegmenter.Segment(text);
        var key = GapRules.SentenceKey(question.Sentence);
        string? speaker = null;
        string? asker = null;
        var paragraph = -1;
        var at = -1;
        // A mail's own text is its author's; its replies are other documents. Slack threads and chat exports are conversations.
        var conversation = !question.Mail && spans.Count(s => SpeakerPrefix().IsMatch(s.Text) && !GapRules.IsHeaderLine(s.Text)) >= 1;
        for (var i = 0; i < spans.Count; i++)
        {
            if (spans[i].Paragraph != paragraph)
            {
                paragraph = spans[i].Paragraph;
                speaker = null;
            }

            if (conversation && SpeakerPrefix().Match(spans[i].Text) is { Success: true } prefix)
            {
                speaker = prefix.Groups[1].Value.Trim();
            }

            if (at < 0)
            {
                if (GapRules.SentenceKey(spans[i].Text) == key || GapRules.SentenceKey(spans[i].Text).Contains(key, StringComparison.Ordinal))
                {
                    at = i;
                    asker = speaker;
                }

                continue;
            }

            if (question.Mail && !conversation)
            {
                break;
            }

            var other = conversation ? speaker is not null && !string.Equals(speaker, asker, StringComparison.OrdinalIgnoreCase) : i - at <= 8;
            if (other && AnswerRules.Answers(question.Sentence, focus, spans[i].Text, inConversation: conversation))
            {
                return (asker, true);
            }
        }

        return (asker, false);
    }

    /// <summary>Sentences of later documents that share the question's words (full-text search, a few chunks per question).</summary>
    private static async Task<List<string>[]> LaterSentencesAsync(AnalysisQueries q, List<Question> questions, List<AnswerRules.Focus> focus, CancellationToken ct)
    {
        var result = questions.Select(_ => new List<string>()).ToArray();
        var queries = focus.Select(f => string.Join(" | ", f.Words.Where(w => w.Weight >= 0.5).Select(w => Regex.Replace(w.Word, "[^a-z0-9]", "", RegexOptions.None, TimeSpan.FromSeconds(1))).Where(w => w.Length >= 3).Distinct())).ToArray();
        var ask = Enumerable.Range(0, questions.Count).Where(i => queries[i].Length > 0).ToList();
        if (ask.Count == 0)
        {
            return result;
        }

        await using var command = await q.CommandAsync($"""
            SELECT x.i, c.text
            FROM unnest(@queries, @documents, @times) WITH ORDINALITY AS x(query, document_id, at, i)
            CROSS JOIN LATERAL (
                SELECT ch.text FROM chunks ch
                JOIN documents d ON d.id = ch.document_id AND d.deleted_at IS NULL
                WHERE ch.tenant_id = @tenant AND ch.document_id <> x.document_id
                  AND (x.at IS NULL OR d.source_created_at IS NULL OR d.source_created_at >= x.at)
                  AND ch.search_vector @@ to_tsquery('english', x.query)
                ORDER BY ts_rank(ch.search_vector, to_tsquery('english', x.query)) DESC
                LIMIT {CandidatesPerQuestion}
            ) c
            """, ct);
        command.Parameters.Add(new Npgsql.NpgsqlParameter<string[]>("queries", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. ask.Select(i => queries[i])] });
        command.Parameters.Add(new Npgsql.NpgsqlParameter<Guid[]>("documents", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = [.. ask.Select(i => questions[i].DocumentId)] });
        command.Parameters.Add(new Npgsql.NpgsqlParameter<DateTime[]>("times", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
        {
            TypedValue = [.. ask.Select(i => (questions[i].At ?? DateTimeOffset.MinValue.AddYears(1)).UtcDateTime)]
        });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var index = ask[(int)reader.GetInt64(0) - 1];
            result[index].AddRange(SentenceSegmenter.Segment(reader.GetString(1)).Select(s => s.Text));
        }

        return result;
    }

    [GeneratedRegex(@"^([^:\n]{2,60}): ", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex SpeakerPrefix();
}
