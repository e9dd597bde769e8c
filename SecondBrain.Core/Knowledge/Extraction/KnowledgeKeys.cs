using System.Collections.Frozen;
using System.Text;

namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>
/// The normalised keys that let two documents name the same thing: entity keys for alias matching and phrase keys
/// for claim subjects and values. Both are deterministic functions of the text alone.
/// </summary>
public static class KnowledgeKeys
{
    private static readonly FrozenSet<string> Dropped = FrozenSet.Create(StringComparer.Ordinal,
        "a", "an", "the", "our", "my", "your", "their", "its", "his", "her", "this", "that", "these", "those");

    private static readonly FrozenSet<string> Prepositions = FrozenSet.Create(StringComparer.Ordinal,
        "of", "for", "in", "on", "at", "with", "from", "to", "by", "about", "per", "under", "over", "across", "between");

    /// <summary>
    /// Lower-case, whitespace collapsed, surrounding punctuation, honorifics ("Dr."), a leading "the" and possessive
    /// 's removed: "Dr. Maria  Lopez's" and "maria lopez" share the key "maria lopez".
    /// </summary>
    public static string Entity(string text)
    {
        var words = Words(text);
        var start = 0;
        if (words.Count > 1 && WordLists.Is(words[0].TrimEnd('.'), WordClass.Honorific))
        {
            start = 1;
        }

        if (words.Count - start > 1 && words[start] == "the")
        {
            start++;
        }

        var key = new StringBuilder();
        for (var i = start; i < words.Count; i++)
        {
            var word = StripPossessive(words[i]);
            if (word.Length == 0)
            {
                continue;
            }

            if (key.Length > 0)
            {
                key.Append(' ');
            }

            key.Append(word);
        }

        return key.ToString();
    }

    /// <summary>
    /// A claim subject or value: lower-case, articles and possessive determiners dropped, plurals made singular:
    /// "Our SLAs for Enterprise customers" becomes "sla for enterprise customer".
    /// </summary>
    public static string Phrase(string text)
    {
        var key = new StringBuilder();
        foreach (var original in Words(text, lowerCase: false))
        {
            var raw = original.ToLowerInvariant();
            var word = StripPossessive(raw).TrimEnd('.');
            if (word.Length == 0 || Dropped.Contains(word))
            {
                continue;
            }

            if (key.Length > 0)
            {
                key.Append(' ');
            }

            // Only common nouns are made singular: "customers" is "customer", but "Jenkins" stays and "SLAs" is "sla".
            var acronymPlural = original.Length > 2 && original[^1] == 's' && original[..^1].All(ch => char.IsUpper(ch) || char.IsDigit(ch));
            key.Append(acronymPlural ? word[..^1] : word.Any(char.IsLetter) && !original.Any(char.IsUpper) ? Expressions.Singular(word) : word);
        }

        return key.ToString();
    }

    /// <summary>A phrase key up to its first preposition: "sla for enterprise customer" has the head "sla".</summary>
    public static string Head(string phraseKey)
    {
        var words = phraseKey.Split(' ');
        var end = Array.FindIndex(words, 1, w => Prepositions.Contains(w));
        return end < 0 ? phraseKey : string.Join(' ', words[..end]);
    }

    private static string StripPossessive(string word) =>
        word.EndsWith("'s", StringComparison.Ordinal) && word.Length > 2 ? word[..^2] : word.EndsWith("s'", StringComparison.Ordinal) ? word[..^1] : word;

    private static List<string> Words(string text, bool lowerCase = true)
    {
        var words = new List<string>();
        foreach (var part in (lowerCase ? text.ToLowerInvariant() : text).Replace('\u2019', '\'').Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            var word = part.Trim('"', '\'', '(', ')', '[', ']', ',', ';', ':', '!', '?', '“', '”', '*', '`');
            if (word.EndsWith('.') && !word[..^1].Contains('.'))
            {
                word = word[..^1];
            }

            if (word.Length > 0)
            {
                words.Add(word);
            }
        }

        return words;
    }
}
