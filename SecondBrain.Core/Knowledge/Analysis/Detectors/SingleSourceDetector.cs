using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using SecondBrain.Core.Knowledge.Extraction;
using NpgsqlTypes;
using SecondBrain.Core.Knowledge.Analysis.Rules;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Single-source knowledge: operational knowledge (<see cref="OperationalRules"/>: where a secret, credential or the only
/// copy of something is kept; the steps of a procedure written as instructions) stated in a message (mail, chat, an
/// uploaded mail or chat export) that no other document restates (a chunk of another document, outside the message's
/// thread, holds at least 60% of its words). Pages, runbooks and policies are where such knowledge belongs; a message
/// is where it goes missing. One gap per document, with its single-source sentences as evidence. Re-evaluated for
/// changed documents and for documents of open single-source gaps (a restatement may have appeared).
/// </summary>
public sealed class SingleSourceDetector : IGapDetector
{
    public string Type => GapTypes.SingleSource;

    public async Task<DetectorOutcome> DetectAsync(AnalysisQueries q, CancellationToken ct)
    {
        const string operational = @"(credential|password|passphrase|secret|api[ -]?key|private key|ssh key|access key|recovery (code|phrase|key)|seed phrase|break[- ]glass|vault|token|certificate|only (signed )?(copy|original)|steps|how (to|you))"
            + @"|\m(click|run|promote|switch|restart|select|choose|paste|enter|press|execute|navigate|rotate|revoke|reset|upload|download)\M"
            + @"|\m(to|in order to)\s+[a-z]+[^,.;\n]{3,120},";
        // Messages (mail, chat, uploaded mail and chat exports): where knowledge ends up that no page records.
        var examined = $"""
            SELECT x.document_id FROM (
                SELECT document_id FROM changed
                UNION
                SELECT (e ->> 'documentId')::uuid FROM knowledge_gaps g CROSS JOIN LATERAL jsonb_array_elements(g.evidence) e
                WHERE g.tenant_id = @tenant AND g.type = '{GapTypes.SingleSource}' AND NOT g.resolved
            ) x
            JOIN documents dx ON dx.id = x.document_id
            WHERE dx.source IN ('email-archive', 'slack-export', 'gmail', 'slack') OR dx.metadata ? 'messageId' OR dx.metadata ? 'threadTs'
               OR dx.metadata ->> 'fileName' ~* '\.(eml|json|mbox)$'
            """;
        var (sentences, capped) = await q.TextSentencesAsync(examined, operational, OperationalRules.IsOperational, ct);
        sentences = sentences.DistinctBy(s => (s.DocumentId, GapRules.SentenceKey(s.Sentence))).ToList();
        var restated = await RestatedAsync(q, sentences, ct);
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
                Priority: items.Any(s => OperationalRules.MentionsSecrets(s.Sentence)) ? 4 : 3,
                Confidence: 0.6);
        }).ToList();

        var scope = $"""
            WITH {ChangedCte}
            SELECT replace(x.document_id::text, '-', '') AS key FROM ({examined}) x
            """;
        return new DetectorOutcome(new DetectorResult(GapTypes.SingleSource, candidates, capped), scope);
    }

    /// <summary>
    /// The sentences another document (outside their own thread, whose replies only quote them) restates: a chunk of
    /// it holds at least 60% of the sentence's words, a word also matching its longer form ("admin", "administrator").
    /// Candidates come from full-text search, a few chunks per sentence.
    /// </summary>
    private static async Task<HashSet<int>> RestatedAsync(AnalysisQueries q, IReadOnlyList<TextSentence> sentences, CancellationToken ct)
    {
        var restated = new HashSet<int>();
        var words = sentences.Select(s => PlanRules.ContentWords(GapRules.StripSpeaker(s.Sentence))).ToList();
        var queries = words.Select(w => string.Join(" | ", w.Select(x => System.Text.RegularExpressions.Regex.Replace(x, "[^a-z0-9]", "", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1))).Where(x => x.Length >= 3).Distinct())).ToList();
        var ask = Enumerable.Range(0, sentences.Count).Where(i => queries[i].Length > 0 && words[i].Count >= 2).ToList();
        if (ask.Count == 0)
        {
            return restated;
        }

        await using var command = await q.CommandAsync("""
            SELECT x.i, c.text
            FROM unnest(@queries, @documents, @threads) WITH ORDINALITY AS x(query, document_id, thread_key, i)
            CROSS JOIN LATERAL (
                SELECT ch.text FROM chunks ch
                JOIN documents d ON d.id = ch.document_id AND d.deleted_at IS NULL
                LEFT JOIN document_knowledge k ON k.document_id = d.id
                WHERE ch.tenant_id = @tenant AND ch.document_id <> x.document_id
                  AND (x.thread_key IS NULL OR k.thread_key IS DISTINCT FROM x.thread_key)
                  AND ch.search_vector @@ to_tsquery('english', x.query)
                ORDER BY ts_rank(ch.search_vector, to_tsquery('english', x.query)) DESC
                LIMIT 10
            ) c
            """, ct);
        command.Parameters.Add(new NpgsqlParameter<string[]>("queries", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. ask.Select(i => queries[i])] });
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("documents", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = [.. ask.Select(i => sentences[i].DocumentId)] });
        command.Parameters.Add(new NpgsqlParameter<string?[]>("threads", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. ask.Select(i => sentences[i].ThreadKey)] });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var index = ask[(int)reader.GetInt64(0) - 1];
            var chunk = PlanRules.ContentWords(reader.GetString(1));
            if (PlanRules.Shared(words[index], chunk) >= 0.6 * words[index].Count)
            {
                restated.Add(index);
            }
        }

        return restated;
    }
}
