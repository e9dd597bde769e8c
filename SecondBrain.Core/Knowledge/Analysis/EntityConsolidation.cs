using System.Globalization;
using System.Text;
using SecondBrain.Core.Data;
using SecondBrain.Core.Knowledge.Extraction;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// One person, one entity; one organisation, one entity. Extraction resolves names one document at a time, so the
/// same person can arrive as "Lucía" in a chat line, "femke" as a chat handle or "s.krueger@balticbridge.de" in a
/// header before (or without) the full name, and an organisation as the domain of an address before its name. At the
/// start of each analysis the tenant's people and organisations are consolidated where the evidence allows: a first
/// name or handle joins the one full-name person it can be; an address joins the person who has it (or whose name it
/// spells); a domain joins the one organisation whose compact name it begins. Ambiguous cases stay apart.
/// </summary>
public sealed class EntityConsolidation(AnalysisQueries q)
{
    private const int MaxEntities = 5000;

    private sealed record Party(Guid Id, string Type, string Name, string? Email, string[] Aliases, DateTimeOffset CreatedAt);

    /// <summary>Merges what belongs together; returns how many entities were merged away.</summary>
    public async Task<int> ConsolidateAsync(CancellationToken ct)
    {
        var parties = await PartiesAsync(ct);
        var people = parties.Where(p => p.Type == EntityTypes.Person).ToList();
        var organisations = parties.Where(p => p.Type == EntityTypes.Organization).ToList();
        var full = people.Where(p => Words(p.Name).Count >= 2 && !p.Name.Contains('@', StringComparison.Ordinal)).ToList();
        var merges = new Dictionary<Guid, Guid>();

        foreach (var person in people.Where(p => !full.Contains(p)))
        {
            if (Target(person, full) is { } target)
            {
                merges[person.Id] = target.Id;
            }
        }

        // Two full names that are one person: the same address, or one name with an initial or accents left out.
        foreach (var group in full.Where(p => p.Email is { Length: > 0 }).GroupBy(p => p.Email!.ToLowerInvariant()).Where(g => g.Count() > 1))
        {
            var keep = group.OrderBy(p => p.CreatedAt).First();
            foreach (var other in group.Where(p => p != keep))
            {
                merges.TryAdd(other.Id, keep.Id);
            }
        }

        foreach (var group in full.GroupBy(p => Plain(p.Name)).Where(g => g.Count() > 1))
        {
            var keep = group.OrderByDescending(p => p.Name.Any(c => c > 127)).ThenBy(p => p.CreatedAt).First();
            foreach (var other in group.Where(p => p != keep))
            {
                merges.TryAdd(other.Id, keep.Id);
            }
        }

        // A domain (or any short form) joins the one organisation whose compact name it begins.
        var named = organisations.Where(o => !IsDomain(o.Name)).ToList();
        foreach (var organisation in organisations)
        {
            var key = PartyNames.CompactKey(organisation.Name);
            if (key.Length < 4)
            {
                continue;
            }

            var candidates = named.Where(o => o.Id != organisation.Id && PartyNames.CompactKey(o.Name) is var other
                && other.Length > key.Length && other.StartsWith(key, StringComparison.Ordinal)).ToList();
            if (candidates.Count == 1 && (IsDomain(organisation.Name) || Words(organisation.Name).Count < Words(candidates[0].Name).Count))
            {
                merges.TryAdd(organisation.Id, candidates[0].Id);
            }
        }

        var merged = 0;
        foreach (var (source, target) in merges)
        {
            var end = target;
            for (var hops = 0; merges.TryGetValue(end, out var next) && hops < 5; hops++)
            {
                end = next;
            }

            if (end != source)
            {
                merged += await MergeAsync(source, end, ct);
            }
        }

        return merged;
    }

    /// <summary>The one full-name person a first name, handle or address can be, or null when it is none or several.</summary>
    private static Party? Target(Party person, List<Party> full)
    {
        if (person.Name.Contains('@', StringComparison.Ordinal))
        {
            var email = person.Name.ToLowerInvariant();
            var byEmail = full.Where(p => string.Equals(p.Email, email, StringComparison.OrdinalIgnoreCase)
                || p.Aliases.Any(a => string.Equals(a, email, StringComparison.OrdinalIgnoreCase))).ToList();
            if (byEmail.Count == 1)
            {
                return byEmail[0];
            }

            // "s.krueger@..." or "bkelly@...": a local part that ends with a surname only one person has.
            var local = email.Split('@')[0];
            var bySurname = full.Where(p => Plain(Words(p.Name)[^1]) is { Length: >= 3 } surname
                && (Plain(local).EndsWith(surname, StringComparison.Ordinal) || Plain(local).StartsWith(surname, StringComparison.Ordinal))).ToList();
            return bySurname.Count == 1 ? bySurname[0] : null;
        }

        var words = Words(person.Name);
        if (words.Count != 1 || words[0].Length < 3)
        {
            return null;
        }

        var first = Plain(words[0]);
        var byFirst = full.Where(p => FirstName(p.Name) == first).ToList();
        return byFirst.Count == 1 ? byFirst[0] : null;
    }

    private async Task<List<Party>> PartiesAsync(CancellationToken ct)
    {
        await using var command = await q.CommandAsync($"""
            SELECT e.id, e.type, e.name, e.email, e.created_at,
                   coalesce(array_agg(a.alias) FILTER (WHERE a.alias IS NOT NULL), ARRAY[]::text[])
            FROM knowledge_entities e
            LEFT JOIN knowledge_aliases a ON a.entity_id = e.id AND a.tenant_id = @tenant
            WHERE e.tenant_id = @tenant AND e.type IN ('person', 'organization')
            GROUP BY e.id, e.type, e.name, e.email, e.created_at
            ORDER BY e.created_at
            LIMIT {MaxEntities}
            """, ct);
        var parties = new List<Party>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            parties.Add(new Party(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetFieldValue<string[]>(5), reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return parties;
    }

    /// <summary>Aliases, mentions and relation evidence move to the target; the source goes. One statement list, bounded by the source's rows.</summary>
    private async Task<int> MergeAsync(Guid source, Guid target, CancellationToken ct)
    {
        await using var command = await q.CommandAsync("""
            UPDATE knowledge_aliases SET entity_id = @target WHERE tenant_id = @tenant AND entity_id = @source;
            UPDATE knowledge_mentions SET entity_id = @target WHERE tenant_id = @tenant AND entity_id = @source;
            UPDATE knowledge_relations SET source_entity_id = @target WHERE tenant_id = @tenant AND source_entity_id = @source;
            UPDATE knowledge_relations SET target_entity_id = @target WHERE tenant_id = @tenant AND target_entity_id = @source;
            DELETE FROM knowledge_relations WHERE tenant_id = @tenant AND source_entity_id = @target AND target_entity_id = @target;
            UPDATE knowledge_entities t SET email = s.email FROM knowledge_entities s
                WHERE t.id = @target AND s.id = @source AND t.tenant_id = @tenant AND t.email IS NULL AND s.email IS NOT NULL AND s.email LIKE '%@%';
            UPDATE knowledge_gaps SET entity_ids = array_replace(entity_ids, @source, @target) WHERE tenant_id = @tenant AND @source = ANY(entity_ids);
            DELETE FROM knowledge_entities WHERE tenant_id = @tenant AND id = @source;
            """, ct);
        command.Parameters.AddWithValue("source", source);
        command.Parameters.AddWithValue("target", target);
        await command.ExecuteNonQueryAsync(ct);
        return 1;
    }

    private static bool IsDomain(string name) => !name.Contains(' ', StringComparison.Ordinal) && name.Contains('.', StringComparison.Ordinal) && !name.EndsWith('.');

    /// <summary>The first name of a full name, honorifics skipped ("Dr. Amara Mensah" is Amara), plain.</summary>
    internal static string FirstName(string name)
    {
        var words = Words(name);
        var i = 0;
        while (i < words.Count - 1 && WordLists.Is(words[i].ToLowerInvariant(), WordClass.Honorific))
        {
            i++;
        }

        return Plain(words[i]);
    }

    private static List<string> Words(string name) => name.Split([' ', '.', '_', '-'], StringSplitOptions.RemoveEmptyEntries).ToList();

    /// <summary>Lower case without accents: "Lucía" and "Lucia", "Wójcik" and "Wojcik" compare equal.</summary>
    internal static string Plain(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var ch in text.Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(ch) != UnicodeCategory.NonSpacingMark)
            {
                builder.Append(char.ToLowerInvariant(ch switch { 'ł' => 'l', 'ø' => 'o', 'æ' => 'a', 'ß' => 's', 'ı' => 'i', _ => ch }));
            }
        }

        return builder.ToString().Trim();
    }
}
