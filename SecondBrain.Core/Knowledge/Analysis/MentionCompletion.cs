using NpgsqlTypes;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// Names known anywhere in the tenant, found where a document uses them. Extraction sees one document at a time and
/// cannot know that "Tomasz", "Sindre Bakke" or "Fjordbank" is a person or a company unless that document says so;
/// once the tenant knows them (from mail headers, chat users, a company suffix), each changed document's text is
/// searched for their names: full names, a first name only one person has, and an organisation's name or the leading
/// words of it that no other organisation shares ("Baltic Bridge" for Baltic Bridge Forwarding GmbH). Names are
/// matched capitalised, as whole words, longest first, so "Ingrid Halvorsen" is the person and not the company.
/// The mentions added this way carry sentence index -2 and are replaced on each run, so re-analysis adds none twice.
/// </summary>
public sealed class MentionCompletion(AnalysisQueries q)
{
    public const int CompletedSentence = -2;
    private const int MaxNames = 4000;

    private sealed record KnownName(string Text, Guid EntityId, int Words);

    public async Task<int> CompleteAsync(CancellationToken ct)
    {
        var names = await NamesAsync(ct);
        if (names.Count == 0)
        {
            return 0;
        }

        await using (var clear = await q.CommandAsync($"""
            WITH {ChangedCte}
            DELETE FROM knowledge_mentions m USING changed c
            WHERE m.tenant_id = @tenant AND m.document_id = c.document_id AND m.sentence_index = {CompletedSentence}
            """, ct))
        {
            await clear.ExecuteNonQueryAsync(ct);
        }

        var found = new List<(Guid Document, Guid Entity, string Text, string Sentence)>();
        var existing = new HashSet<(Guid, Guid)>();
        await using (var command = await q.CommandAsync($"""
            WITH {ChangedCte}
            SELECT c.document_id, string_agg(ch.text, E'\n' ORDER BY ch.position),
                   (SELECT coalesce(array_agg(DISTINCT m.entity_id), ARRAY[]::uuid[]) FROM knowledge_mentions m WHERE m.tenant_id = @tenant AND m.document_id = c.document_id)
            FROM changed c
            JOIN chunks ch ON ch.document_id = c.document_id AND ch.tenant_id = @tenant
            JOIN documents d ON d.id = c.document_id AND d.deleted_at IS NULL
            GROUP BY c.document_id
            LIMIT 5000
            """, ct))
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            var byFirstWord = names.GroupBy(n => n.Text.Split(' ')[0], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.OrderByDescending(n => n.Words).ToList(), StringComparer.Ordinal);
            while (await reader.ReadAsync(ct))
            {
                var document = reader.GetGuid(0);
                var text = reader.GetString(1);
                foreach (var entity in reader.GetFieldValue<Guid[]>(2))
                {
                    existing.Add((document, entity));
                }

                foreach (var span in SentenceSegmenter.Segment(text))
                {
                    foreach (var (entity, name) in Find(span.Text, byFirstWord))
                    {
                        if (existing.Add((document, entity)))
                        {
                            found.Add((document, entity, name, span.Text.Length > 2000 ? span.Text[..2000] : span.Text));
                        }
                    }
                }
            }
        }

        if (found.Count == 0)
        {
            return 0;
        }

        await using var insert = await q.CommandAsync($"""
            INSERT INTO knowledge_mentions (tenant_id, entity_id, document_id, sentence_index, start, length, text, sentence, from_header)
            SELECT @tenant, f.entity_id, f.document_id, {CompletedSentence}, 0, length(f.text), f.text, f.sentence, false
            FROM unnest(@entities, @documents, @texts, @sentences) AS f(entity_id, document_id, text, sentence)
            """, ct);
        insert.Parameters.Add(new Npgsql.NpgsqlParameter<Guid[]>("entities", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = [.. found.Select(f => f.Entity)] });
        insert.Parameters.Add(new Npgsql.NpgsqlParameter<Guid[]>("documents", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = [.. found.Select(f => f.Document)] });
        insert.Parameters.Add(new Npgsql.NpgsqlParameter<string[]>("texts", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. found.Select(f => f.Text)] });
        insert.Parameters.Add(new Npgsql.NpgsqlParameter<string[]>("sentences", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. found.Select(f => f.Sentence)] });
        return await insert.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Whole-word, capitalised, longest-first matches of the known names in a sentence.</summary>
    private static IEnumerable<(Guid Entity, string Name)> Find(string sentence, Dictionary<string, List<KnownName>> byFirstWord)
    {
        var i = 0;
        while (i < sentence.Length)
        {
            if (!char.IsLetter(sentence[i]) || (i > 0 && (char.IsLetterOrDigit(sentence[i - 1]) || sentence[i - 1] is '@' or '.' or '/' or '-' or '_')))
            {
                i++;
                continue;
            }

            var end = i;
            while (end < sentence.Length && (char.IsLetterOrDigit(sentence[end]) || sentence[end] is '\'' or '’' && end + 1 < sentence.Length && char.IsLetter(sentence[end + 1]) && sentence[end + 1] != 's'))
            {
                end++;
            }

            var word = sentence[i..end];
            var matched = false;
            if (byFirstWord.TryGetValue(word, out var candidates))
            {
                foreach (var name in candidates)
                {
                    var stop = i + name.Text.Length;
                    if (stop <= sentence.Length && string.CompareOrdinal(sentence, i, name.Text, 0, name.Text.Length) == 0
                        && (stop == sentence.Length || !char.IsLetterOrDigit(sentence[stop])))
                    {
                        yield return (name.EntityId, name.Text);
                        i = stop;
                        matched = true;
                        break;
                    }
                }
            }

            if (!matched)
            {
                i = end;
            }
        }
    }

    /// <summary>
    /// The names to look for: people's full names and unambiguous first names, organisations' names and unambiguous
    /// leading words. Single words that are ordinary English words (or acronyms) are left out: "Will" and "Relay" name
    /// too much else.
    /// </summary>
    private async Task<List<KnownName>> NamesAsync(CancellationToken ct)
    {
        var rows = new List<(Guid Id, string Type, string Name, string[] Aliases)>();
        await using (var command = await q.CommandAsync($"""
            SELECT e.id, e.type, e.name, coalesce(array_agg(a.alias) FILTER (WHERE a.alias IS NOT NULL), ARRAY[]::text[])
            FROM knowledge_entities e
            LEFT JOIN knowledge_aliases a ON a.entity_id = e.id AND a.tenant_id = @tenant
            WHERE e.tenant_id = @tenant AND e.type IN ('person', 'organization')
            GROUP BY e.id, e.type, e.name
            LIMIT {MaxNames}
            """, ct))
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                rows.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<string[]>(3)));
            }
        }

        var names = new Dictionary<string, HashSet<Guid>>(StringComparer.Ordinal);
        void Add(string text, Guid id)
        {
            text = text.Trim().Trim('.', ',', '"', '\'');
            if (text.Length < 3 || !char.IsUpper(text[0]) || text.Contains('@', StringComparison.Ordinal) || text.StartsWith("org:", StringComparison.Ordinal))
            {
                return;
            }

            if (!text.Contains(' ', StringComparison.Ordinal) && (text.Contains('.', StringComparison.Ordinal) || IsOrdinaryWord(text)))
            {
                return;
            }

            if (!names.TryGetValue(text, out var ids))
            {
                names[text] = ids = [];
            }

            ids.Add(id);
        }

        foreach (var (id, type, name, aliases) in rows)
        {
            foreach (var alias in aliases.Append(name).Where(a => a.Contains(' ', StringComparison.Ordinal)))
            {
                Add(alias, id);
            }

            var words = name.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (type == EntityTypes.Person && words.Length >= 2)
            {
                var first = WordLists.Is(words[0].TrimEnd('.').ToLowerInvariant(), WordClass.Honorific) && words.Length > 2 ? words[1] : words[0];
                Add(first, id);
            }
            else if (type == EntityTypes.Organization)
            {
                Add(name, id);
                for (var n = words.Length - 1; n >= 1; n--)
                {
                    Add(string.Join(' ', words.Take(n)).TrimEnd('&', ',', ' '), id);
                }
            }
        }

        // A name that could be two entities names neither.
        return names.Where(n => n.Value.Count == 1).Select(n => new KnownName(n.Key, n.Value.First(), n.Key.Count(c => c == ' ') + 1)).ToList();
    }

    private static bool IsOrdinaryWord(string word)
    {
        var lower = word.ToLowerInvariant();
        return WordLists.Classes.ContainsKey(lower) || WordLists.Classes.ContainsKey(Expressions.Singular(lower))
            || word.All(c => char.IsUpper(c) || char.IsDigit(c)) || CommonWords.Contains(lower);
    }

    /// <summary>Capitalised words that start sentences or titles far more often than they name someone.</summary>
    private static readonly HashSet<string> CommonWords = new(StringComparer.Ordinal)
    {
        "new", "old", "north", "south", "east", "west", "first", "global", "united", "general", "national", "international", "central", "great", "royal",
        "digital", "data", "cloud", "open", "smart", "blue", "red", "green", "black", "white", "golden", "silver", "grand", "big", "little", "the", "van",
        "de", "la", "le", "von", "der", "den", "st", "san", "santa", "mount", "lake", "river", "port", "city", "bank", "air", "sea", "star", "sun"
    };
}
