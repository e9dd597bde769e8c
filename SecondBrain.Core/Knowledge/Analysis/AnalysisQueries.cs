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
/// The shared part of the gap detectors for one run: commands bound to the tenant and the run's scope (changed
/// documents, cap, minimum confidence), the "changed" CTE, and the lookups several detectors need (frames, sentences
/// read from chunks, the entities a sentence names, people by name or address). Every raw query names the tenant
/// explicitly: the EF query filter does not apply to SQL written by hand.
/// </summary>
public sealed partial class AnalysisQueries(SecondBrainDbContext db, KnowledgeAnalysisOptions options, AnalysisScope scope)
{
    public const string AnswerSource = "gap-answer";

    public KnowledgeAnalysisOptions Options => options;

    public AnalysisScope Scope => scope;

    public SecondBrainDbContext Db => db;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Acronyms everyone knows; an "undefined" CEO or PDF is not a gap.</summary>
    internal static readonly string[] CommonAcronyms =
    [
        "ok", "ceo", "cfo", "cto", "coo", "cio", "vp", "svp", "evp", "hr", "it", "pr", "qa", "usa", "us", "uk", "eu", "un", "pdf", "url", "faq",
        "fyi", "asap", "am", "pm", "eta", "tbd", "id", "tv", "ai", "ui", "ux", "hq", "llc", "inc", "ltd", "plc", "gmt", "utc", "est", "pst",
        "cst", "edt", "pdt", "cet", "q1", "q2", "q3", "q4", "nyc", "la", "dc", "usd", "eur", "gbp", "cc", "bcc", "re", "fw", "fwd", "ps",
        "aka", "etc", "ie", "eg", "vs", "diy", "rsvp", "atm", "gps", "sms", "html", "http", "https", "www", "css", "json", "xml", "sql", "api",
        "ip", "pc", "cpu", "gpu", "ram", "usb", "os", "ios", "ok'd", "tba", "n/a"
    ];

    /// <summary>The documents this run examines: extracted since the previous run, plus the extra ones.</summary>
    public const string ChangedCte = """
        changed AS (
            SELECT k.document_id FROM document_knowledge k
            WHERE k.tenant_id = @tenant AND k.status = 'extracted' AND (@since IS NULL OR k.extracted_at > @since)
            UNION
            SELECT x FROM unnest(@extra) AS x
        )
        """;

    /// <summary>Frame <c>f</c> (of document <c>d</c>, state <c>k</c>) is a quote of the same sentence in an earlier message of its thread.</summary>
    public const string QuotedEarlier = """
        EXISTS (
            SELECT 1 FROM knowledge_frames q
            JOIN document_knowledge kq ON kq.document_id = q.document_id
            JOIN documents dq ON dq.id = q.document_id AND dq.deleted_at IS NULL
            WHERE q.tenant_id = @tenant AND q.document_id <> f.document_id AND q.type = f.type
              AND k.thread_key IS NOT NULL AND kq.thread_key = k.thread_key
              AND (dq.source_created_at < d.source_created_at OR (dq.source_created_at = d.source_created_at AND dq.id < d.id))
              AND lower(q.sentence) = lower(f.sentence))
        """;

    public static string Norm(string expression) =>
        $"regexp_replace(lower(btrim(coalesce({expression}, ''))), '^(the|a|an|our|their|this|that|its)\\s+', '')";

    public int Cap => options.MaxCandidatesPerType;

    /// <summary>A sentence read from a document's indexed text, with who said it when the document is a Slack thread.</summary>
    internal sealed record TextSentence(Guid DocumentId, string Sentence, string Title, string? Author, string? ThreadKey, DateTimeOffset? At, string? Speaker);

    /// <summary>
    /// The sentences of the documents <paramref name="documentsSql"/> selects (a query over the "changed" CTE) that
    /// <paramref name="keep"/> accepts, read from their chunks: chunks are prefiltered in SQL by
    /// <paramref name="pattern"/>, at most three times the cap of them, and segmented here.
    /// </summary>
    internal async Task<(List<TextSentence> Sentences, bool Capped)> TextSentencesAsync(string documentsSql, string pattern, Func<string, bool> keep, CancellationToken ct)
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

    /// <summary>The indexed text of each document (its chunks in order), for the few candidate documents a detector examines.</summary>
    internal async Task<Dictionary<Guid, string>> DocumentTextsAsync(Guid[] documents, CancellationToken ct)
    {
        var texts = new Dictionary<Guid, string>();
        if (documents.Length == 0)
        {
            return texts;
        }

        await using var command = await CommandAsync("""
            SELECT c.document_id, string_agg(c.text, E'\n\n' ORDER BY c.position)
            FROM chunks c WHERE c.tenant_id = @tenant AND c.document_id = ANY(@documents)
            GROUP BY c.document_id
            """, ct);
        command.Parameters.AddWithValue("documents", documents.Take(Cap * 2).ToArray());
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            texts[reader.GetGuid(0)] = reader.GetString(1);
        }

        return texts;
    }

    /// <summary>The indexes of sentences that an earlier message of their thread already holds: quotes, not new statements.</summary>
    internal async Task<HashSet<int>> QuotedInEarlierMessageAsync(IReadOnlyList<TextSentence> sentences, CancellationToken ct)
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

    // ----- shared lookups -----

    internal sealed record FrameRow(
        Guid DocumentId, int SentenceIndex, string Sentence, IReadOnlyDictionary<string, string> Slots, string Trigger, bool Negated,
        double Confidence, string Title, string? Author)
    {
        public string? Slot(string name) => Slots.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;
    }

    internal sealed record ClaimRow(
        string SubjectKey, string Predicate, string Subject, string Value, string ValueKey, string ValueKind, bool Polarity,
        Guid DocumentId, int SentenceIndex, string Sentence, string Title, string? Author);

    internal async Task<List<FrameRow>> FrameRowsAsync(string sql, CancellationToken ct)
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
    internal async Task<Dictionary<(Guid, int), List<Guid>>> SentenceEntitiesAsync(IEnumerable<(Guid DocumentId, int SentenceIndex)> sentences, CancellationToken ct)
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
    internal async Task<Dictionary<string, Guid>> TopicEntitiesAsync(IEnumerable<string?> objects, CancellationToken ct)
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

    internal static List<Guid> Related(Dictionary<string, Guid> topics, string? thing, List<Guid>? mentioned)
    {
        var related = new List<Guid>();
        if (thing is not null && topics.TryGetValue(TopicKey(thing), out var topic))
        {
            related.Add(topic);
        }

        related.AddRange((mentioned ?? []).Where(id => !related.Contains(id)));
        return related;
    }

    internal static string TopicKey(string text)
    {
        var key = Regex.Replace(text.Trim().ToLowerInvariant(), @"\s+", " ", RegexOptions.NonBacktracking);
        key = Regex.Replace(key, @"^(the|a|an|our|their|this|that)\s+", "", RegexOptions.NonBacktracking);
        return key.TrimEnd('.', ',', ';', ':');
    }

    /// <summary>Distinct sentences naming each entity, oldest document first, at most the evidence cap each.</summary>
    internal async Task<Dictionary<Guid, List<GapEvidence>>> MentionEvidenceAsync(Guid[] entityIds, CancellationToken ct)
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
    internal async Task<List<(Guid Id, string Name, string? Email, string[] Keys)>> PeopleAsync(IEnumerable<(string? Name, string? Email)> people, CancellationToken ct)
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

    internal static Guid? Person(List<(Guid Id, string Name, string? Email, string[] Keys)> people, string? name, string? email)
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
    internal static string? WithoutTime(string? thing, string? time)
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

    internal static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>A command on the context's connection with the scope's parameters (tenant, since, extra, cap, min confidence).</summary>
    internal async Task<NpgsqlCommand> CommandAsync(string sql, CancellationToken ct)
    {
        if (db.ScopedTenantId != scope.TenantId)
        {
            throw new InvalidOperationException("The analysis scope's tenant is not the tenant in scope.");
        }

        var command = await db.TenantCommandAsync(sql, ct);
        command.CommandTimeout = 300;
        command.Parameters.Add(new NpgsqlParameter("since", NpgsqlDbType.TimestampTz) { Value = scope.Since is { } since ? since.ToUniversalTime() : DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("extra", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = [.. scope.ExtraDocumentIds] });
        command.Parameters.Add(new NpgsqlParameter<long>("cap", NpgsqlDbType.Bigint) { TypedValue = Cap });
        command.Parameters.Add(new NpgsqlParameter<double>("minConfidence", NpgsqlDbType.Double) { TypedValue = options.MinFrameConfidence });
        return command;
    }
}
