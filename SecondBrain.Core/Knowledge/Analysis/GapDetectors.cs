using System.Data;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using SecondBrain.Core.Data;
using SecondBrain.Core.Knowledge.Extraction;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// What one analysis run looks at. <see cref="Since"/> null means the first run: every extracted document.
/// <see cref="ExtraDocumentIds"/> are documents to look at again although unchanged (the remaining evidence of gaps
/// whose other evidence was deleted), bounded by the caller.
/// </summary>
public sealed record AnalysisScope(Guid TenantId, DateTimeOffset? Since, IReadOnlyList<Guid> ExtraDocumentIds);

/// <summary>
/// The gap detectors. Each is one set-based query over the knowledge tables (frames, claims, mentions, relations,
/// document_knowledge) — or, for the two that are about wording rather than extracted structure (team commitments,
/// single-source instructions), over the changed documents' indexed chunks — that returns a bounded candidate list
/// (<see cref="KnowledgeAnalysisOptions.MaxCandidatesPerType"/>), followed by precise checks in C# on those few rows,
/// so memory stays bounded whatever the tenant's size.
/// <para>
/// Per-document detectors (missing rationale, owner, time; unanswered questions) read only the documents extracted
/// since the previous run (the "changed" set). Tenant-wide detectors (contradiction, undefined term, single source,
/// bus factor) re-evaluate only the subjects, terms, documents and people the changed documents touch, plus those of
/// gaps already open; the first run touches everything. Every raw query names the tenant explicitly: the EF query
/// filter does not apply to SQL written by hand.
/// </para>
/// </summary>
public sealed class GapDetectors(SecondBrainDbContext db, KnowledgeAnalysisOptions options, AnalysisScope scope)
{
    public const string AnswerSource = "gap-answer";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Acronyms everyone knows; an "undefined" CEO or PDF is not a gap.</summary>
    private static readonly string[] CommonAcronyms =
    [
        "ok", "ceo", "cfo", "cto", "coo", "cio", "vp", "svp", "evp", "hr", "it", "pr", "qa", "usa", "us", "uk", "eu", "un", "pdf", "url", "faq",
        "fyi", "asap", "am", "pm", "eta", "tbd", "id", "tv", "ai", "ui", "ux", "hq", "llc", "inc", "ltd", "plc", "gmt", "utc", "est", "pst",
        "cst", "edt", "pdt", "cet", "q1", "q2", "q3", "q4", "nyc", "la", "dc", "usd", "eur", "gbp", "cc", "bcc", "re", "fw", "fwd", "ps",
        "aka", "etc", "ie", "eg", "vs", "diy", "rsvp", "atm", "gps", "sms", "html", "http", "https", "www", "css", "json", "xml", "sql", "api",
        "ip", "pc", "cpu", "gpu", "ram", "usb", "os", "ios", "ok'd", "tba", "n/a"
    ];

    /// <summary>The documents this run examines: extracted since the previous run, plus the extra ones.</summary>
    private const string ChangedCte = """
        changed AS (
            SELECT k.document_id FROM document_knowledge k
            WHERE k.tenant_id = @tenant AND k.status = 'extracted' AND (@since IS NULL OR k.extracted_at > @since)
            UNION
            SELECT x FROM unnest(@extra) AS x
        )
        """;

    /// <summary>Frame <c>f</c> (of document <c>d</c>, state <c>k</c>) is a quote of the same sentence in an earlier message of its thread.</summary>
    private const string QuotedEarlier = """
        EXISTS (
            SELECT 1 FROM knowledge_frames q
            JOIN document_knowledge kq ON kq.document_id = q.document_id
            JOIN documents dq ON dq.id = q.document_id AND dq.deleted_at IS NULL
            WHERE q.tenant_id = @tenant AND q.document_id <> f.document_id AND q.type = f.type
              AND k.thread_key IS NOT NULL AND kq.thread_key = k.thread_key
              AND (dq.source_created_at < d.source_created_at OR (dq.source_created_at = d.source_created_at AND dq.id < d.id))
              AND lower(q.sentence) = lower(f.sentence))
        """;

    private static string Norm(string expression) =>
        $"regexp_replace(lower(btrim(coalesce({expression}, ''))), '^(the|a|an|our|their|this|that|its)\\s+', '')";

    private int Cap => options.MaxCandidatesPerType;

    /// <summary>How many documents the run examines (for the run's counts).</summary>
    public async Task<int> CountChangedAsync(CancellationToken ct)
    {
        await using var command = await CommandAsync($"WITH {ChangedCte} SELECT count(*)::int FROM changed", ct);
        return (int)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Missing rationale: a decision frame (not a question) whose required rationale slot is empty — the extractor
    /// already counts a reason in the next sentence ("The reason is ...") — with a known object, whose next sentence
    /// does not explain it either (it opens with "This", "It", "The reason", "Because" and carries a rationale: "This
    /// was mainly because ..."), and no other decision anywhere in the tenant about the same object gives a reason. A sentence quoted from an
    /// earlier message of the same thread is the earlier message's gap, not a new one.
    /// </summary>
    public async Task<DetectorResult> MissingRationaleAsync(CancellationToken ct)
    {
        var rows = await FrameRowsAsync($"""
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
        var entities = await SentenceEntitiesAsync(rows.Select(r => (r.DocumentId, r.SentenceIndex)), ct);
        var topics = await TopicEntitiesAsync(rows.Select(r => r.Slot("object")), ct);
        foreach (var row in rows.DistinctBy(r => (r.DocumentId, r.SentenceIndex)))
        {
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

        return new DetectorResult(GapTypes.MissingRationale, candidates, rows.Count >= Cap);
    }

    /// <summary>
    /// Missing owner: a recurring process (a process frame with a frequency: "every Friday", "monthly") whose owner
    /// slot is empty, where nothing in the same sentence names an owner (an ownership frame or an owns relation), no
    /// frame anywhere names an owner for the same object, and no owns relation points at an entity of that name.
    /// One-off mentions of a process ("see the runbook") are not gaps: it is the recurring work nobody owns that
    /// silently stops (a certificate nobody renews). A sentence that defines a term ("MRR stands for monthly recurring
    /// revenue") is not a process.
    /// </summary>
    public async Task<DetectorResult> MissingOwnerAsync(CancellationToken ct)
    {
        var rows = await FrameRowsAsync($"""
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
        var entities = await SentenceEntitiesAsync(rows.Select(r => (r.DocumentId, r.SentenceIndex)), ct);
        var topics = await TopicEntitiesAsync(rows.Select(r => r.Slot("object")), ct);
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

        return new DetectorResult(GapTypes.MissingOwner, candidates, rows.Count >= Cap);
    }

    /// <summary>
    /// Missing time: a commitment — a sentence that says what will be done ("we will", "is going to", "plan to") —
    /// with no time anywhere in it: no time slot on its frames and no date, month, weekday, quarter or relative time
    /// in the text. Candidates are decision and event frames that commit to something, and every sentence of a changed
    /// document in which the team commits ("We will ...", "We are going to ...") whatever the extractor made of it
    /// (read from the document's indexed text). Past decisions are not commitments (the document dates them);
    /// questions are not either; a sentence quoted from an earlier message of the same thread is that message's.
    /// </summary>
    public async Task<DetectorResult> MissingTimeAsync(CancellationToken ct)
    {
        const string commitment = @"\m(will|shall|going to|plans? to|planned to|planning to|intends? to|aims? to|committed to)\M|\w'll\M";
        await using var command = await CommandAsync($"""
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

        var capped = sentences.Count >= Cap;
        var (fromText, textCapped) = await TextSentencesAsync(
            $"SELECT document_id FROM changed",
            @"\m(we|team)\s+(will|shall|are going to|plans? to|intends? to|aims? to)\M|\mwe'll\M",
            GapRules.IsTeamCommitment, ct);
        sentences.AddRange(fromText);
        var kept = sentences
            .Where(s => GapRules.IsCommitment(s.Sentence) && !GapRules.HasTimeExpression(s.Sentence))
            .DistinctBy(s => (s.DocumentId, GapRules.SentenceKey(s.Sentence)))
            .ToList();
        var quoted = await QuotedInEarlierMessageAsync(kept, ct);
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
        return new DetectorResult(GapTypes.MissingTime, candidates, capped || textCapped);
    }

    /// <summary>
    /// Unanswered question: a question (a question frame whose sentence ends with "?") in a conversation — an e-mail
    /// or a Slack thread, i.e. a document with a thread key — that nobody else answered. An e-mail question is answered
    /// when another message replies to it (In-Reply-To its Message-ID) or follows it in the same thread, from a
    /// different sender. A Slack question is answered when a later message in its thread (the thread is one document,
    /// one "Name: text" line per message) comes from someone other than the asker. A question quoted from an earlier
    /// message of the thread belongs to that message.
    /// </summary>
    public async Task<DetectorResult> UnansweredQuestionsAsync(CancellationToken ct)
    {
        await using var command = await CommandAsync($"""
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

        var entities = await SentenceEntitiesAsync(kept.Select(r => (r.DocumentId, r.SentenceIndex)), ct);
        var people = await PeopleAsync(kept.Select(r => (r.Asker ?? GapRules.ParseAuthor(r.Author).Name, GapRules.ParseAuthor(r.Author).Email)), ct);
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
        return new DetectorResult(GapTypes.UnansweredQuestion, candidates, rows.Count >= Cap);
    }

    /// <summary>
    /// Contradiction: claims about the same subject and predicate (normalised keys) in different documents that
    /// cannot both hold — a different value of an exclusive kind (number, percent, money, date, duration; text values
    /// are not exclusive: "supports SSO" and "supports SAML" can both be true), or the same value affirmed in one and
    /// denied in another ("we support single sign-on" / "we do not support single sign-on"). Predicates that describe
    /// change over time ("increased to") are history, not contradictions; dates agree when one is a coarser form of
    /// the other. Only subject/predicate pairs with a claim in a changed document are re-evaluated.
    /// </summary>
    public async Task<(DetectorResult Result, string ScopeSql)> ContradictionsAsync(CancellationToken ct)
    {
        const string touched = """
            touched AS (
                SELECT DISTINCT c.subject_key, c.predicate FROM knowledge_claims c JOIN changed ch ON ch.document_id = c.document_id
                WHERE c.tenant_id = @tenant
            )
            """;
        await using var command = await CommandAsync($"""
            WITH {ChangedCte}, {touched},
            groups AS (
                SELECT c.subject_key, c.predicate
                FROM knowledge_claims c
                JOIN touched t ON t.subject_key = c.subject_key AND t.predicate = c.predicate
                JOIN documents d ON d.id = c.document_id AND d.deleted_at IS NULL
                WHERE c.tenant_id = @tenant AND right(rtrim(c.sentence), 1) <> '?'
                GROUP BY c.subject_key, c.predicate
                HAVING count(DISTINCT c.document_id) > 1
                   AND (count(DISTINCT c.value_key) FILTER (WHERE c.value_kind <> 'text') > 1 OR (bool_or(c.polarity) AND NOT bool_and(c.polarity)))
                ORDER BY count(DISTINCT c.document_id) DESC, c.subject_key, c.predicate
                LIMIT @cap
            ),
            ranked AS (
                SELECT c.subject_key, c.predicate, c.subject, c.value, c.value_key, c.value_kind, c.polarity, c.document_id, c.sentence_index,
                       c.sentence, d.title, coalesce(c.author, d.author) AS author,
                       row_number() OVER (PARTITION BY c.subject_key, c.predicate, c.value_key, c.polarity ORDER BY d.source_created_at NULLS LAST, c.document_id) AS n
                FROM knowledge_claims c
                JOIN groups g ON g.subject_key = c.subject_key AND g.predicate = c.predicate
                JOIN documents d ON d.id = c.document_id AND d.deleted_at IS NULL
                WHERE c.tenant_id = @tenant AND right(rtrim(c.sentence), 1) <> '?'
            )
            SELECT subject_key, predicate, subject, value, value_key, value_kind, polarity, document_id, sentence_index, sentence, title, author
            FROM ranked WHERE n <= 3
            ORDER BY subject_key, predicate, value_key, polarity
            """, ct);
        var claims = new List<ClaimRow>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                claims.Add(new ClaimRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetString(5), reader.GetBoolean(6), reader.GetGuid(7), reader.GetInt32(8), reader.GetString(9), reader.GetString(10), NullableString(reader, 11)));
            }
        }

        var groups = claims.GroupBy(c => (c.SubjectKey, c.Predicate)).ToList();
        var found = new List<(string Key, ClaimRow[] Evidence, Func<IReadOnlyList<GapEvidence>, GapText> Text, int Priority, double Confidence)>();
        foreach (var group in groups)
        {
            // Values of one exclusive kind: cluster those that agree; two clusters from different documents conflict.
            if (!GapRules.IsChangePredicate(group.Key.Predicate))
            {
                foreach (var kind in group.Where(c => c.ValueKind != "text" && c.Polarity).GroupBy(c => c.ValueKind))
                {
                    var clusters = new List<List<ClaimRow>>();
                    foreach (var claim in kind)
                    {
                        var home = clusters.FirstOrDefault(cluster => GapRules.ValuesAgree(kind.Key, cluster[0].ValueKey, claim.ValueKey));
                        if (home is null)
                        {
                            clusters.Add([claim]);
                        }
                        else
                        {
                            home.Add(claim);
                        }
                    }

                    if (clusters.Count > 1 && clusters.SelectMany(c => c).Select(c => c.DocumentId).Distinct().Count() > 1)
                    {
                        var sides = clusters.Select(c => c.First()).ToArray();
                        var evidence = clusters.SelectMany(c => c.Take(2)).Take(options.MaxEvidencePerGap).ToArray();
                        var subject = sides[0].Subject;
                        found.Add(($"v|{group.Key.SubjectKey}|{group.Key.Predicate}", evidence,
                            ev => GapTemplates.ValueContradiction(subject, sides.Select(s => (s.Value, ev.First(e => e.DocumentId == s.DocumentId && e.Quote == s.Sentence))).ToList()),
                            5, kind.Key is "date" or "number" or "percent" or "money" ? 0.85 : 0.75));
                    }
                }
            }

            // The same value affirmed in one document and denied in another.
            foreach (var value in group.GroupBy(c => c.ValueKey))
            {
                var affirms = value.Where(c => c.Polarity).ToList();
                var denies = value.Where(c => !c.Polarity).ToList();
                if (affirms.Count == 0 || denies.Count == 0
                    || !affirms.Any(a => denies.Any(d => d.DocumentId != a.DocumentId)))
                {
                    continue;
                }

                var yes = affirms.First(a => denies.Any(d => d.DocumentId != a.DocumentId));
                var no = denies.First(d => d.DocumentId != yes.DocumentId);
                var evidence = new[] { yes, no }.Concat(affirms.Concat(denies).Where(c => c != yes && c != no)).Take(options.MaxEvidencePerGap).ToArray();
                var statement = $"{yes.Subject} {yes.Predicate} {yes.Value}";
                found.Add(($"p|{group.Key.SubjectKey}|{group.Key.Predicate}|{value.Key}", evidence,
                    ev => GapTemplates.PolarityContradiction(statement, ev[0], ev[1]), 4, 0.7));
            }
        }

        var entities = await SentenceEntitiesAsync(found.SelectMany(f => f.Evidence.Select(e => (e.DocumentId, e.SentenceIndex))), ct);
        var candidates = found.Select(f =>
        {
            var evidence = f.Evidence.Select(e => new GapEvidence(e.DocumentId, e.Title, e.Sentence, e.Author)).ToList();
            var related = f.Evidence.SelectMany(e => entities.GetValueOrDefault((e.DocumentId, e.SentenceIndex)) ?? []).Distinct().ToList();
            return new GapCandidate(GapTypes.Contradiction, f.Key, f.Text(evidence), evidence, related, f.Priority, f.Confidence);
        }).ToList();

        var scope = $"""
            WITH {ChangedCte}, {touched}
            SELECT 'v|' || t.subject_key || '|' || t.predicate AS key FROM touched t
            UNION
            SELECT 'p|' || c.subject_key || '|' || c.predicate || '|' || c.value_key FROM knowledge_claims c
            JOIN touched t ON t.subject_key = c.subject_key AND t.predicate = c.predicate
            WHERE c.tenant_id = @tenant
            """;
        return (new DetectorResult(GapTypes.Contradiction, candidates, groups.Count >= Cap), scope);
    }

    /// <summary>
    /// Undefined term: an acronym entity used (in the text, not headers) in at least
    /// <see cref="KnowledgeAnalysisOptions.UndefinedTermMinDocuments"/> documents and
    /// <see cref="KnowledgeAnalysisOptions.UndefinedTermMinMentions"/> times, that no definition frame defines ("X stands
    /// for", "Launch Readiness Review (LRR)"), that the tenant's glossary does not list, and that is not a
    /// universally known acronym. Re-evaluated for acronyms named or defined in changed documents and for those of
    /// open undefined-term gaps (a glossary entry may have appeared).
    /// </summary>
    public async Task<(DetectorResult Result, string ScopeSql)> UndefinedTermsAsync(CancellationToken ct)
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
        await using var command = await CommandAsync($"""
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
        command.Parameters.AddWithValue("minDocuments", (long)options.UndefinedTermMinDocuments);
        command.Parameters.AddWithValue("minMentions", (long)options.UndefinedTermMinMentions);
        command.Parameters.AddWithValue("common", CommonAcronyms);
        var terms = new List<(Guid Id, string Name, long Mentions, long Documents)>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                terms.Add((reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)));
            }
        }

        var evidence = await MentionEvidenceAsync(terms.Select(t => t.Id).ToArray(), ct);
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
        return (new DetectorResult(GapTypes.UndefinedTerm, candidates, terms.Count >= Cap), scope);
    }

    /// <summary>
    /// Single-source knowledge: operational knowledge — where credentials or secrets live, how to perform an
    /// operation ("To rotate X, do Y"), where something is stored, step-by-step instructions — that exactly one
    /// document states: no chunk of any other document (outside its own thread, whose replies merely quote it)
    /// contains all of the sentence's words. Read from the documents' indexed text, so it does not depend on what the
    /// extractor recognised in the sentence. One gap per document, with its single-source sentences as evidence.
    /// Re-evaluated for changed documents and for documents of open single-source gaps (a restatement may have
    /// appeared, e.g. an answer to the gap).
    /// </summary>
    public async Task<(DetectorResult Result, string ScopeSql)> SingleSourceAsync(CancellationToken ct)
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
        var (sentences, capped) = await TextSentencesAsync(examined, operational, GapRules.IsOperationalKnowledge, ct);
        sentences = sentences.DistinctBy(s => (s.DocumentId, GapRules.SentenceKey(s.Sentence))).ToList();

        // Restated elsewhere: another document's chunk (outside the thread) holds every word of the sentence.
        var restated = new HashSet<int>();
        if (sentences.Count > 0)
        {
            await using var command = await CommandAsync("""
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
        var people = await PeopleAsync(kept.Select(s => (s.Speaker ?? GapRules.ParseAuthor(s.Author).Name, GapRules.ParseAuthor(s.Author).Email)), ct);
        var candidates = kept.GroupBy(s => s.DocumentId).Select(document =>
        {
            var items = document.Take(options.MaxEvidencePerGap).ToList();
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
        return (new DetectorResult(GapTypes.SingleSource, candidates, capped), scope);
    }

    /// <summary>A sentence read from a document's indexed text, with who said it when the document is a Slack thread.</summary>
    private sealed record TextSentence(Guid DocumentId, string Sentence, string Title, string? Author, string? ThreadKey, DateTimeOffset? At, string? Speaker);

    /// <summary>
    /// The sentences of the documents <paramref name="documentsSql"/> selects (a query over the "changed" CTE) that
    /// <paramref name="keep"/> accepts, read from their chunks: chunks are prefiltered in SQL by
    /// <paramref name="pattern"/>, at most three times the cap of them, and segmented here.
    /// </summary>
    private async Task<(List<TextSentence> Sentences, bool Capped)> TextSentencesAsync(string documentsSql, string pattern, Func<string, bool> keep, CancellationToken ct)
    {
        await using var command = await CommandAsync($"""
            WITH {ChangedCte}, examined AS ({documentsSql})
            SELECT c.document_id, c.text, d.title, d.author, k.thread_key, d.source_created_at
            FROM chunks c
            JOIN examined x ON x.document_id = c.document_id
            JOIN documents d ON d.id = c.document_id AND d.deleted_at IS NULL AND d.source <> '{AnswerSource}'
            LEFT JOIN document_knowledge k ON k.document_id = c.document_id
            WHERE c.tenant_id = @tenant AND c.text ~* @pattern
            ORDER BY c.document_id, c.position
            LIMIT @chunkCap
            """, ct);
        command.Parameters.AddWithValue("pattern", pattern);
        command.Parameters.AddWithValue("chunkCap", (long)Cap * 3);
        var sentences = new List<TextSentence>();
        var chunks = 0;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            chunks++;
            var text = reader.GetString(1);
            var threadKey = NullableString(reader, 4);
            foreach (var span in SentenceSegmenter.Segment(text))
            {
                if (keep(span.Text))
                {
                    var speaker = threadKey?.StartsWith("slack:", StringComparison.Ordinal) == true ? GapRules.SlackReplies(text, span.Text).Asker : null;
                    sentences.Add(new TextSentence(reader.GetGuid(0), span.Text, reader.GetString(2), NullableString(reader, 3), threadKey,
                        reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5), speaker));
                }
            }
        }

        return (sentences, chunks >= Cap * 3);
    }

    /// <summary>The indexes of sentences that an earlier message of their thread already holds: quotes, not new statements.</summary>
    private async Task<HashSet<int>> QuotedInEarlierMessageAsync(IReadOnlyList<TextSentence> sentences, CancellationToken ct)
    {
        var quoted = new HashSet<int>();
        if (!sentences.Any(s => s.ThreadKey is not null))
        {
            return quoted;
        }

        await using var command = await CommandAsync("""
            SELECT s.i FROM unnest(@documents, @sentences, @threads, @times) WITH ORDINALITY AS s(document_id, sentence, thread_key, at, i)
            WHERE s.thread_key IS NOT NULL AND EXISTS (
                SELECT 1 FROM document_knowledge kq
                JOIN documents dq ON dq.id = kq.document_id AND dq.deleted_at IS NULL
                JOIN chunks cq ON cq.document_id = kq.document_id AND cq.tenant_id = @tenant
                WHERE kq.tenant_id = @tenant AND kq.thread_key = s.thread_key AND kq.document_id <> s.document_id
                  AND dq.source_created_at < s.at
                  AND strpos(regexp_replace(lower(cq.text), '\s+', ' ', 'g'), lower(s.sentence)) > 0)
            """, ct);
        command.Parameters.AddWithValue("documents", sentences.Select(s => s.DocumentId).ToArray());
        command.Parameters.AddWithValue("sentences", sentences.Select(s => Regex.Replace(s.Sentence, @"\s+", " ", RegexOptions.NonBacktracking)).ToArray());
        command.Parameters.Add(new NpgsqlParameter<string?[]>("threads", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = sentences.Select(s => s.ThreadKey).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]>("times", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
        {
            TypedValue = sentences.Select(s => (s.At ?? DateTimeOffset.MaxValue).UtcDateTime).ToArray()
        });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            quoted.Add((int)reader.GetInt64(0) - 1);
        }

        return quoted;
    }

    /// <summary>
    /// Adds to each gap the entities its evidence names by alias (capitalised words, acronyms and short word runs
    /// looked up in the tenant's alias table), after the mention-based ones, at most 12. One query for all of them.
    /// </summary>
    public async Task<DetectorResult> LinkEntitiesAsync(DetectorResult result, CancellationToken ct)
    {
        var keysByGap = result.Candidates.Select(c => c.Evidence.Take(4).SelectMany(e => GapRules.NameKeys(e.Quote)).Distinct().ToList()).ToList();
        var keys = keysByGap.SelectMany(k => k).Distinct().ToArray();
        if (keys.Length == 0)
        {
            return result;
        }

        var byKey = new Dictionary<string, List<Guid>>(StringComparer.Ordinal);
        await using (var command = await CommandAsync("""
            SELECT a.key, a.entity_id FROM knowledge_aliases a
            JOIN knowledge_entities e ON e.id = a.entity_id AND e.tenant_id = @tenant
            WHERE a.tenant_id = @tenant AND a.key = ANY(@keys) AND (e.type <> 'topic' OR a.key LIKE '% %')
            """, ct))
        {
            command.Parameters.AddWithValue("keys", keys);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                if (!byKey.TryGetValue(reader.GetString(0), out var list))
                {
                    byKey[reader.GetString(0)] = list = [];
                }

                list.Add(reader.GetGuid(1));
            }
        }

        var linked = result.Candidates.Select((candidate, i) =>
        {
            var ids = candidate.EntityIds.Concat(keysByGap[i].SelectMany(k => byKey.GetValueOrDefault(k) ?? [])).Distinct().Take(12).ToList();
            return ids.Count == candidate.EntityIds.Count ? candidate : candidate with { EntityIds = ids };
        }).ToList();
        return result with { Candidates = linked };
    }

    /// <summary>
    /// Bus factor: a person who is the only named owner (owns relations, from ownership frames and "X is responsible
    /// for Y") of at least <see cref="KnowledgeAnalysisOptions.BusFactorMinItems"/> distinct things — things nobody
    /// else is recorded as owning. Re-evaluated for people with ownership evidence in changed documents and for those
    /// of open bus-factor gaps.
    /// </summary>
    public async Task<(DetectorResult Result, string ScopeSql)> BusFactorAsync(CancellationToken ct)
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
        await using var command = await CommandAsync($"""
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
        command.Parameters.AddWithValue("minItems", (long)options.BusFactorMinItems);
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
            var evidence = items.Take(options.MaxEvidencePerGap).Select(i => new GapEvidence(i.DocumentId, i.Title, i.Sentence, i.Author)).ToList();
            return new GapCandidate(
                GapTypes.BusFactor,
                person.Key.Person.ToString("N"),
                GapTemplates.BusFactor(person.Key.Name, items.Select(i => i.Item).ToList()),
                evidence,
                [person.Key.Person, .. items.Select(i => i.ItemId).Take(20)],
                Priority: items.Count >= options.BusFactorMinItems * 3 / 2 ? 5 : 4,
                Confidence: Math.Round(Math.Min(0.95, 0.5 + (0.05 * items.Count)), 2));
        }).ToList();

        var scope = $"""
            WITH {ChangedCte}, {touched}
            SELECT replace(person_id::text, '-', '') AS key FROM touched
            """;
        return (new DetectorResult(GapTypes.BusFactor, candidates, candidates.Count >= Cap), scope);
    }

    // ----- resolution -----

    /// <summary>A gap whose evidence includes a deleted (or no longer extracted) document, with its evidence documents still alive.</summary>
    public sealed record DeadEvidence(string Fingerprint, string Type, IReadOnlyList<Guid> LiveDocuments);

    /// <summary>
    /// Open gaps that cite a document that is gone (deleted, or its knowledge removed). Their remaining documents are
    /// examined again, and those not found again are resolved. Bounded: a tenant's open gaps, at most 2,000.
    /// </summary>
    public async Task<IReadOnlyList<DeadEvidence>> DeadEvidenceAsync(CancellationToken ct)
    {
        await using var command = await CommandAsync("""
            SELECT g.fingerprint, g.type,
                   coalesce(array_agg(DISTINCT d.id) FILTER (WHERE d.id IS NOT NULL AND k.document_id IS NOT NULL), '{}') AS live
            FROM knowledge_gaps g
            CROSS JOIN LATERAL jsonb_array_elements(g.evidence) e
            LEFT JOIN documents d ON d.id = (e ->> 'documentId')::uuid AND d.deleted_at IS NULL
            LEFT JOIN document_knowledge k ON k.document_id = d.id
            WHERE g.tenant_id = @tenant AND NOT g.resolved
            GROUP BY g.fingerprint, g.type
            HAVING bool_or(d.id IS NULL OR k.document_id IS NULL)
            ORDER BY g.fingerprint
            LIMIT 2000
            """, ct);
        var result = new List<DeadEvidence>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new DeadEvidence(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<Guid[]>(2)));
        }

        return result;
    }

    /// <summary>
    /// Per-document gap types: an open gap citing a changed document that this run did not find again no longer
    /// holds (the sentence changed, an owner or reason was added, a reply arrived).
    /// </summary>
    public async Task<int> ResolveChangedDocumentsAsync(string type, Guid runId, IReadOnlyCollection<string> found, CancellationToken ct)
    {
        await using var command = await CommandAsync($"""
            WITH {ChangedCte}
            UPDATE knowledge_gaps g SET resolved = true, updated_at = now(), last_run_id = @run
            WHERE g.tenant_id = @tenant AND g.type = @type AND NOT g.resolved
              AND NOT (g.fingerprint = ANY(@found))
              AND EXISTS (SELECT 1 FROM jsonb_array_elements(g.evidence) e JOIN changed c ON c.document_id = (e ->> 'documentId')::uuid)
            """, ct);
        return await ResolveAsync(command, type, runId, found, ct);
    }

    /// <summary>
    /// Tenant-wide gap types: an open gap whose subject the run re-evaluated (its fingerprint is among the scope's
    /// keys, hashed in SQL exactly as <see cref="GapRules.Fingerprint"/> does) but did not find again is resolved.
    /// </summary>
    public async Task<int> ResolveScopeAsync(string type, string scopeSql, Guid runId, IReadOnlyCollection<string> found, CancellationToken ct)
    {
        await using var command = await CommandAsync($"""
            UPDATE knowledge_gaps g SET resolved = true, updated_at = now(), last_run_id = @run
            WHERE g.tenant_id = @tenant AND g.type = @type AND NOT g.resolved
              AND NOT (g.fingerprint = ANY(@found))
              AND g.fingerprint IN (SELECT {GapRules.FingerprintSql("@type::text", "s.key")} FROM ({scopeSql}) s)
            """, ct);
        return await ResolveAsync(command, type, runId, found, ct);
    }

    /// <summary>Gaps citing a deleted document that the run did not find again.</summary>
    public async Task<int> ResolveDeadAsync(IReadOnlyCollection<string> dead, Guid runId, IReadOnlyCollection<string> found, CancellationToken ct)
    {
        if (dead.Count == 0)
        {
            return 0;
        }

        await using var command = await CommandAsync("""
            UPDATE knowledge_gaps g SET resolved = true, updated_at = now(), last_run_id = @run
            WHERE g.tenant_id = @tenant AND NOT g.resolved AND g.fingerprint = ANY(@dead) AND NOT (g.fingerprint = ANY(@found))
            """, ct);
        command.Parameters.AddWithValue("dead", dead.ToArray());
        return await ResolveAsync(command, "", runId, found, ct);
    }

    private static async Task<int> ResolveAsync(NpgsqlCommand command, string type, Guid runId, IReadOnlyCollection<string> found, CancellationToken ct)
    {
        command.Parameters.AddWithValue("type", type);
        command.Parameters.AddWithValue("run", runId);
        command.Parameters.AddWithValue("found", found.ToArray());
        return await command.ExecuteNonQueryAsync(ct);
    }

    // ----- shared lookups -----

    private sealed record FrameRow(
        Guid DocumentId, int SentenceIndex, string Sentence, IReadOnlyDictionary<string, string> Slots, string Trigger, bool Negated,
        double Confidence, string Title, string? Author)
    {
        public string? Slot(string name) => Slots.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;
    }

    private sealed record ClaimRow(
        string SubjectKey, string Predicate, string Subject, string Value, string ValueKey, string ValueKind, bool Polarity,
        Guid DocumentId, int SentenceIndex, string Sentence, string Title, string? Author);

    private async Task<List<FrameRow>> FrameRowsAsync(string sql, CancellationToken ct)
    {
        await using var command = await CommandAsync(sql, ct);
        var rows = new List<FrameRow>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var slots = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(3), Json) ?? [];
            rows.Add(new FrameRow(reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2), slots, reader.GetString(4), reader.GetBoolean(5),
                reader.GetDouble(6), reader.GetString(7), NullableString(reader, 8)));
        }

        return rows;
    }

    /// <summary>The entities named in each (document, sentence): the gap's related entities.</summary>
    private async Task<Dictionary<(Guid, int), List<Guid>>> SentenceEntitiesAsync(IEnumerable<(Guid DocumentId, int SentenceIndex)> sentences, CancellationToken ct)
    {
        var pairs = sentences.Distinct().ToList();
        var result = new Dictionary<(Guid, int), List<Guid>>();
        if (pairs.Count == 0)
        {
            return result;
        }

        await using var command = await CommandAsync("""
            SELECT m.document_id, m.sentence_index, m.entity_id, min(m.start) AS first
            FROM knowledge_mentions m
            JOIN unnest(@documents, @sentences) AS p(document_id, sentence_index)
              ON p.document_id = m.document_id AND p.sentence_index = m.sentence_index
            WHERE m.tenant_id = @tenant AND NOT m.from_header
            GROUP BY m.document_id, m.sentence_index, m.entity_id
            ORDER BY m.document_id, m.sentence_index, first
            """, ct);
        command.Parameters.AddWithValue("documents", pairs.Select(p => p.DocumentId).ToArray());
        command.Parameters.AddWithValue("sentences", pairs.Select(p => p.SentenceIndex).ToArray());
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var key = (reader.GetGuid(0), reader.GetInt32(1));
            if (!result.TryGetValue(key, out var list))
            {
                result[key] = list = [];
            }

            list.Add(reader.GetGuid(2));
        }

        return result;
    }

    /// <summary>
    /// The entities a frame's object became: the extraction files what a decision or ownership is about, when no
    /// recognised entity names it, as a topic entity keyed like an alias ("switch the support inbox to zendesk").
    /// </summary>
    private async Task<Dictionary<string, Guid>> TopicEntitiesAsync(IEnumerable<string?> objects, CancellationToken ct)
    {
        var keys = objects.OfType<string>().Select(TopicKey).Where(k => k.Length > 2).Distinct().ToArray();
        var result = new Dictionary<string, Guid>(StringComparer.Ordinal);
        if (keys.Length == 0)
        {
            return result;
        }

        await using var command = await CommandAsync(
            "SELECT a.key, a.entity_id FROM knowledge_aliases a WHERE a.tenant_id = @tenant AND a.key = ANY(@keys)", ct);
        command.Parameters.AddWithValue("keys", keys);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.TryAdd(reader.GetString(0), reader.GetGuid(1));
        }

        return result;
    }

    private static List<Guid> Related(Dictionary<string, Guid> topics, string? thing, List<Guid>? mentioned)
    {
        var related = new List<Guid>();
        if (thing is not null && topics.TryGetValue(TopicKey(thing), out var topic))
        {
            related.Add(topic);
        }

        related.AddRange((mentioned ?? []).Where(id => !related.Contains(id)));
        return related;
    }

    private static string TopicKey(string text)
    {
        var key = Regex.Replace(text.Trim().ToLowerInvariant(), @"\s+", " ", RegexOptions.NonBacktracking);
        key = Regex.Replace(key, @"^(the|a|an|our|their|this|that)\s+", "", RegexOptions.NonBacktracking);
        return key.TrimEnd('.', ',', ';', ':');
    }

    /// <summary>Distinct sentences naming each entity, oldest document first, at most the evidence cap each.</summary>
    private async Task<Dictionary<Guid, List<GapEvidence>>> MentionEvidenceAsync(Guid[] entityIds, CancellationToken ct)
    {
        var result = new Dictionary<Guid, List<GapEvidence>>();
        if (entityIds.Length == 0)
        {
            return result;
        }

        await using var command = await CommandAsync("""
            WITH distinct_sentences AS (
                SELECT DISTINCT ON (m.entity_id, lower(m.sentence)) m.entity_id, m.document_id, m.sentence, d.title, d.author, d.source_created_at
                FROM knowledge_mentions m
                JOIN documents d ON d.id = m.document_id AND d.deleted_at IS NULL
                WHERE m.tenant_id = @tenant AND m.entity_id = ANY(@entities) AND NOT m.from_header AND m.sentence <> ''
                ORDER BY m.entity_id, lower(m.sentence), d.source_created_at NULLS LAST, m.document_id
            ),
            ranked AS (
                SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY source_created_at NULLS LAST, document_id, sentence) AS n
                FROM distinct_sentences
            )
            SELECT entity_id, document_id, sentence, title, author FROM ranked WHERE n <= @limit
            ORDER BY entity_id, n
            """, ct);
        command.Parameters.AddWithValue("entities", entityIds);
        command.Parameters.AddWithValue("limit", (long)options.MaxEvidencePerGap);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var entity = reader.GetGuid(0);
            if (!result.TryGetValue(entity, out var list))
            {
                result[entity] = list = [];
            }

            list.Add(new GapEvidence(reader.GetGuid(1), reader.GetString(3), reader.GetString(2), NullableString(reader, 4)));
        }

        return result;
    }

    /// <summary>Person entities by name (or alias key) and e-mail address, for the asker or holder of a gap.</summary>
    private async Task<List<(Guid Id, string Name, string? Email, string[] Keys)>> PeopleAsync(IEnumerable<(string? Name, string? Email)> people, CancellationToken ct)
    {
        var list = people.ToList();
        var names = list.Select(p => p.Name?.Trim().ToLowerInvariant()).OfType<string>().Distinct().ToArray();
        var emails = list.Select(p => p.Email?.Trim().ToLowerInvariant()).OfType<string>().Distinct().ToArray();
        var result = new List<(Guid, string, string?, string[])>();
        if (names.Length == 0 && emails.Length == 0)
        {
            return result;
        }

        await using var command = await CommandAsync("""
            SELECT e.id, e.name, e.email, coalesce(array_agg(a.key) FILTER (WHERE a.key IS NOT NULL), '{}')
            FROM knowledge_entities e
            LEFT JOIN knowledge_aliases a ON a.entity_id = e.id AND a.tenant_id = @tenant
            WHERE e.tenant_id = @tenant AND e.type = 'person'
              AND (lower(e.email) = ANY(@emails) OR lower(e.name) = ANY(@names)
                   OR e.id IN (SELECT a2.entity_id FROM knowledge_aliases a2 WHERE a2.tenant_id = @tenant AND a2.key = ANY(@names)))
            GROUP BY e.id, e.name, e.email
            LIMIT 1000
            """, ct);
        command.Parameters.AddWithValue("names", names);
        command.Parameters.AddWithValue("emails", emails);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add((reader.GetGuid(0), reader.GetString(1), NullableString(reader, 2), reader.GetFieldValue<string[]>(3)));
        }

        return result;
    }

    private static Guid? Person(List<(Guid Id, string Name, string? Email, string[] Keys)> people, string? name, string? email)
    {
        if (email is { Length: > 0 })
        {
            foreach (var person in people)
            {
                if (string.Equals(person.Email, email, StringComparison.OrdinalIgnoreCase))
                {
                    return person.Id;
                }
            }
        }

        if (name is { Length: > 0 })
        {
            var key = name.Trim().ToLowerInvariant();
            foreach (var person in people)
            {
                if (string.Equals(person.Name, name.Trim(), StringComparison.OrdinalIgnoreCase) || person.Keys.Contains(key))
                {
                    return person.Id;
                }
            }
        }

        return null;
    }

    /// <summary>The object slot without a trailing time slot ("retire the API on January 30" less "on January 30").</summary>
    private static string? WithoutTime(string? thing, string? time)
    {
        if (thing is null || time is null)
        {
            return thing;
        }

        var trimmed = thing.TrimEnd(' ', '.', ',');
        return trimmed.EndsWith(time, StringComparison.OrdinalIgnoreCase) && trimmed.Length > time.Length
            ? trimmed[..^time.Length].TrimEnd(' ', ',')
            : thing;
    }

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>A command on the context's connection with the scope's parameters (tenant, since, extra, cap, min confidence).</summary>
    internal async Task<NpgsqlCommand> CommandAsync(string sql, CancellationToken ct)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        if (connection.State != ConnectionState.Open)
        {
            await connection.OpenAsync(ct);
        }

        var command = new NpgsqlCommand(sql, connection, db.Database.CurrentTransaction?.GetDbTransaction() as NpgsqlTransaction)
        {
            CommandTimeout = 300
        };
        command.Parameters.Add(new NpgsqlParameter<Guid>("tenant", NpgsqlDbType.Uuid) { TypedValue = scope.TenantId });
        command.Parameters.Add(new NpgsqlParameter("since", NpgsqlDbType.TimestampTz) { Value = scope.Since is { } since ? since.ToUniversalTime() : DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("extra", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = [.. scope.ExtraDocumentIds] });
        command.Parameters.Add(new NpgsqlParameter<long>("cap", NpgsqlDbType.Bigint) { TypedValue = Cap });
        command.Parameters.Add(new NpgsqlParameter<double>("minConfidence", NpgsqlDbType.Double) { TypedValue = options.MinFrameConfidence });
        return command;
    }
}
