using System.Text.RegularExpressions;

namespace SecondBrain.Core.Knowledge.Analysis.Rules;

/// <summary>
/// Whether a sentence answers a question. A reply answers when it takes up what the question asks, not merely what
/// it mentions: it shares at least two of the question's content words that are not names, or one such word and a
/// third of the question's weight. Names and places (capitalised words) anchor a topic but weigh half, generic words
/// ("day", "old", "data") a third, months and numbers nothing, so a joke about King's Day in Rotterdam does not answer
/// "Is the Rotterdam office closed on King's Day?", and "the CSV route export stays available until 30 April" does
/// answer "Can we keep the old route export in CSV after go-live?". Questions never answer, and neither does a copy
/// of the question (a quote in a reply).
/// </summary>
public static partial class AnswerRules
{

    public sealed record Focus(IReadOnlyList<(string Word, double Weight, bool Name)> Words)
    {
        public double Total => Words.Sum(w => w.Weight);
    }

    public static Focus FocusOf(string question)
    {
        // Examples are not what is asked: "..., for example for support tooling or e-mail?".
        var text = GapRules.StripSpeaker(question);
        var example = Example().Match(text);
        if (example.Success && example.Index > 10)
        {
            text = text[..example.Index];
        }

        var words = new List<(string, double, bool)>();
        foreach (Match match in Word().Matches(text))
        {
            var raw = match.Value.TrimEnd('\'', '’');
            if (raw.EndsWith("'s", StringComparison.Ordinal) || raw.EndsWith("’s", StringComparison.Ordinal))
            {
                raw = raw[..^2];
            }

            var lower = raw.ToLowerInvariant();
            if (lower.Length < 3 || Stop.Contains(lower) || Months.Contains(lower) || lower.All(char.IsDigit) || words.Exists(w => w.Item1 == lower))
            {
                continue;
            }

            var name = char.IsUpper(raw[0]) && match.Index > 0;
            var weight = Generic.Contains(lower) ? 0.3 : name ? 0.5 : 1.0;
            words.Add((lower, weight, name));
        }

        return new Focus(words);
    }

    /// <param name="inConversation">The sentence is a later message of the same conversation by someone else: "Yes, ..." answers a yes/no question there.</param>
    public static bool Answers(string question, Focus focus, string sentence, bool inConversation = false)
    {
        var reply = GapRules.StripSpeaker(sentence);
        if (GapRules.IsQuestion(reply) || focus.Words.Count == 0 || reply.Length < 2)
        {
            return false;
        }

        if (inConversation && YesNo().IsMatch(reply))
        {
            return true;
        }

        if (!GivesWhatIsAsked(GapRules.StripSpeaker(question), reply))
        {
            return false;
        }

        var key = GapRules.SentenceKey(question);
        if (GapRules.SentenceKey(sentence).Contains(key, StringComparison.Ordinal) || key.Contains(GapRules.SentenceKey(reply), StringComparison.Ordinal))
        {
            return false;
        }

        var words = Word().Matches(reply.ToLowerInvariant()).Select(m => m.Value.TrimEnd('\'', '’')).Select(w => w.EndsWith("'s", StringComparison.Ordinal) ? w[..^2] : w).ToHashSet(StringComparer.Ordinal);
        double shared = 0;
        var content = 0;
        foreach (var (word, weight, name) in focus.Words)
        {
            if (words.Contains(word) || words.Any(w => SameWord(w, word)))
            {
                shared += weight;
                if (!name && weight >= 1)
                {
                    content++;
                }
            }
        }

        return (content >= 2 && shared >= 0.3 * focus.Total) || (content >= 1 && shared >= 0.5 * focus.Total);
    }

    /// <summary>
    /// A wh-question wants a kind of answer: "who" a name or a role, "how long/many/much/far" a number, "when" a time.
    /// A sentence that only repeats the question's words without one does not answer it.
    /// </summary>
    private static bool GivesWhatIsAsked(string question, string reply)
    {
        var wh = WhWord().Match(question);
        if (!wh.Success)
        {
            return true;
        }

        return wh.Groups[1].Value.ToLowerInvariant() switch
        {
            "who" or "whom" or "whose" => PersonOrRole().IsMatch(reply),
            "when" => GapRules.HasTimeExpression(reply),
            _ => Number().IsMatch(reply)
        };
    }

    /// <summary>One word the prefix of the other ("cert", "certificate"), or a long common stem ("alerts", "alerting").</summary>
    private static bool SameWord(string a, string b)
    {
        if (Math.Min(a.Length, b.Length) < 4)
        {
            return false;
        }

        if (a.StartsWith(b, StringComparison.Ordinal) || b.StartsWith(a, StringComparison.Ordinal))
        {
            return true;
        }

        var common = 0;
        while (common < a.Length && common < b.Length && a[common] == b[common])
        {
            common++;
        }

        return common >= 5 && common >= 0.7 * Math.Min(a.Length, b.Length);
    }

    private static readonly HashSet<string> Stop = new(StringComparer.Ordinal)
    {
        "the", "and", "for", "are", "was", "were", "can", "could", "would", "should", "will", "shall", "does", "did", "has", "have", "had", "you", "your",
        "our", "ours", "who", "what", "when", "where", "why", "how", "which", "whom", "whose", "any", "anyone", "someone", "there", "this", "that",
        "these", "those", "with", "from", "into", "about", "also", "just", "only", "still", "already", "yet", "not", "but", "or", "its", "it's",
        "them", "they", "their", "then", "than", "all", "some", "much", "many", "more", "most", "very", "really", "please", "thanks", "know", "let",
        "tell", "ask", "asked", "confirm", "whether", "need", "needs", "want", "like", "get", "got", "one", "now", "okay", "is", "am", "be", "been",
        "being", "do", "me", "my", "we", "us", "he", "she", "his", "her", "him", "i'm", "we're", "else", "either", "instead", "while", "far", "back",
        "example", "e.g", "etc", "yes", "no", "maybe", "sure", "ever", "way", "happens", "happen", "once", "after", "before", "until", "least",
        "when", "still", "already", "again", "able"
    };

    private static readonly HashSet<string> Generic = new(StringComparer.Ordinal)
    {
        "day", "days", "week", "weeks", "month", "year", "time", "times", "old", "new", "thing", "things", "data", "people", "team", "work", "good",
        "best", "first", "last", "next", "normal", "part", "side", "case", "point", "kind", "lot", "bit", "today", "tomorrow", "morning", "later"
    };

    private static readonly HashSet<string> Months = new(StringComparer.Ordinal)
    {
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "monday", "tuesday", "wednesday", "thursday", "friday",
        "saturday", "sunday"
    };

    [GeneratedRegex(@"[\p{L}\p{N}][\p{L}\p{N}'’\-]*", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Word();

    [GeneratedRegex(@"^\W*(who|whom|whose|when|how long|how many|how much|how far|how often)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex WhWord();

    [GeneratedRegex(@"\p{Lu}\p{Ll}+\s+\p{Lu}\p{Ll}+|\b(I|me|we|you|he|she|they)\b|\b(owner|owns|lead|manager|team|responsible|in charge|approves?|admin|administrator|officer|department)\b", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex PersonOrRole();

    [GeneratedRegex(@"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|hundred|a few|several|no longer|forever|indefinitely)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Number();

    [GeneratedRegex(@",?\s*\b(for example|for instance|e\.g\.|such as)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Example();

    [GeneratedRegex(@"^\W*(yes|yep|yeah|no|nope|sure|correct|right|absolutely|definitely|not yet)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex YesNo();
}
