using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using SecondBrain.Core.Common;
using SecondBrain.Core.Knowledge.Extraction;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// The pure parts of gap detection: fingerprints, sentence keys and the few text tests the detectors apply to their
/// (bounded) candidates after the set-based queries. Kept free of I/O so each rule is unit-tested on its own.
/// </summary>
public static partial class GapRules
{
    /// <summary>
    /// A gap's identity: SHA-256 of its type and what it is about (never its wording), so a re-analysis finds the
    /// gap it reported before. The SQL twin, used to match gaps set-based, is <see cref="FingerprintSql"/>.
    /// </summary>
    public static string Fingerprint(string type, string key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(type + "\n" + key)));

    /// <summary>The same hash in Postgres, for a type parameter and a key expression.</summary>
    public static string FingerprintSql(string typeParameter, string keyExpression) =>
        $"encode(sha256(convert_to({typeParameter} || E'\\n' || ({keyExpression}), 'UTF8')), 'hex')";

    /// <summary>
    /// What two copies of a sentence share: lower-case, whitespace collapsed, a leading "Name: " speaker (the way a
    /// Slack thread is written) and trailing punctuation dropped.
    /// </summary>
    public static string SentenceKey(string sentence)
    {
        var text = Whitespace().Replace(sentence, " ").Trim();
        text = Speaker().Replace(text, "");
        return text.TrimEnd('.', '!', '?', ';', ':', ' ').ToLowerInvariant();
    }

    /// <summary>The sentence without a leading "Name: " speaker (Slack threads and chat transcripts are written so).</summary>
    public static string StripSpeaker(string sentence) => SpeakerLine().Replace(sentence.TrimStart(), "", 1);

    /// <summary>The per-document key of a gap about one sentence: the document and the sentence's key.</summary>
    public static string DocumentSentenceKey(Guid documentId, string sentence) =>
        documentId.ToString("N") + "|" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(SentenceKey(sentence))))[..32];

    /// <summary>
    /// True when the sentence names a point in time or a deadline (a date, month, quarter, weekday, "next week",
    /// "end of the month", "in two weeks"): the guard that keeps a commitment whose time slot the extractor missed from
    /// being reported as having none.
    /// </summary>
    public static bool HasTimeExpression(string sentence) => TimeExpression().IsMatch(sentence);

    /// <summary>A statement of what will be done ("we will", "is going to", "plan to"): a commitment, which needs a when.</summary>
    public static bool IsCommitment(string sentence) =>
        !IsQuestion(sentence) && !IsHeaderLine(sentence) && SafeRegex.IsMatch(Commitment(), sentence);

    /// <summary>
    /// The team commits ("We will ...", "We are going to ...", "Our team plans to ..."), possibly after a Slack
    /// speaker ("Raj Aggarwal: We will ..."): a commitment of the team whatever the extractor made of the sentence.
    /// </summary>
    public static bool IsTeamCommitment(string sentence) => !IsQuestion(sentence) && SafeRegex.IsMatch(TeamCommitment(), sentence);

    public static bool IsQuestion(string sentence) => sentence.TrimEnd().EndsWith('?');

    /// <summary>
    /// Operational knowledge worth more than one copy: where credentials or secrets live, how to do an operation
    /// ("To rotate X, do Y"), where something is stored, step-by-step instructions.
    /// </summary>
    public static bool IsOperationalKnowledge(string sentence) =>
        !IsQuestion(sentence) && !IsHeaderLine(sentence) && sentence.Length is >= 30 and <= 600
        && (Secrets().IsMatch(sentence) || Procedure().IsMatch(sentence) || StoredIn().IsMatch(sentence) || Instructions().IsMatch(sentence));

    /// <summary>"To rotate X, do Y" / "In order to restore X, run ...": an instruction for an operation.</summary>
    public static bool IsProcedure(string sentence) => Procedure().IsMatch(sentence);

    /// <summary>A mail header line that the parsed text carries ("Subject: ...", "From: ..."): not something the team stated.</summary>
    public static bool IsHeaderLine(string sentence) => HeaderLine().IsMatch(sentence);

    /// <summary>
    /// The alias keys a sentence may name an entity by: capitalised words and acronyms, and runs of two to four words,
    /// keyed as entity aliases are (<see cref="KnowledgeKeys.Entity"/>). Looked up in the tenant's alias table, they
    /// relate a gap to the entities its evidence names even where the extractor recorded no mention.
    /// </summary>
    public static IReadOnlyList<string> NameKeys(string sentence)
    {
        var words = Word().Matches(sentence).Select(m => m.Value.TrimEnd('.', '\'', '’', '-')).Where(w => w.Length > 0).ToList();
        var keys = new List<string>();
        for (var i = 0; i < words.Count; i++)
        {
            for (var n = 1; n <= 4 && i + n <= words.Count; n++)
            {
                if (n == 1 && !IsNameLike(words[i]))
                {
                    continue;
                }

                if (n > 1 && (NonNameWords.Contains(words[i].ToLowerInvariant()) && words[i] is not ("the" or "The")
                              || NonNameWords.Contains(words[i + n - 1].ToLowerInvariant())))
                {
                    continue;
                }

                var key = KnowledgeKeys.Entity(string.Join(' ', words.Skip(i).Take(n)));
                if (key.Length >= 2 && !keys.Contains(key))
                {
                    keys.Add(key);
                }
            }
        }

        return keys;
    }

    private static bool IsNameLike(string word) =>
        word.Length >= 2 && char.IsUpper(word[0]) && !NonNameWords.Contains(word.ToLowerInvariant());

    /// <summary>Words that start or end no name: pronouns, articles, auxiliaries, question words, prepositions, conjunctions.</summary>
    private static readonly HashSet<string> NonNameWords = new(StringComparer.Ordinal)
    {
        "a", "an", "the", "this", "that", "these", "those", "it", "its", "we", "our", "us", "you", "your", "i", "me", "my", "he", "she",
        "his", "her", "they", "them", "their", "who", "what", "when", "where", "why", "how", "which", "is", "are", "was", "were", "be",
        "been", "do", "does", "did", "will", "would", "can", "could", "should", "may", "might", "must", "shall", "have", "has", "had",
        "and", "or", "but", "of", "in", "on", "at", "to", "for", "by", "with", "from", "as", "if", "so", "not", "no", "yes", "all",
        "any", "some", "each", "every", "there", "here", "hi", "hello", "thanks", "thank", "please", "ok", "okay", "also", "just",
        "only", "until", "then", "than", "because", "about", "after", "before", "into", "over", "under", "up", "out", "again"
    };

    /// <summary>Secrets and credentials make single-source knowledge a security risk as well: a higher priority.</summary>
    public static bool MentionsSecrets(string sentence) => Secrets().IsMatch(sentence);

    /// <summary>Predicates that describe a change over time: different values are history, not a contradiction.</summary>
    public static bool IsChangePredicate(string predicate) => ChangePredicate().IsMatch(predicate);

    /// <summary>
    /// Whether two normalised claim values of one kind say the same. Dates agree when one is a coarser form of the
    /// other ("2026-03" and "2026-03-03", a year-less "--03-03" and "2026-03-03"); other kinds compare exactly.
    /// </summary>
    public static bool ValuesAgree(string kind, string a, string b)
    {
        if (string.Equals(a, b, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (kind == "date")
        {
            static string WithoutYear(string v) => v.StartsWith("--", StringComparison.Ordinal) ? v[1..] : v.Length >= 5 && v[4] == '-' ? v[4..] : v;
            if (a.StartsWith("--", StringComparison.Ordinal) || b.StartsWith("--", StringComparison.Ordinal))
            {
                return WithoutYear(a) == WithoutYear(b);
            }

            return a.StartsWith(b, StringComparison.Ordinal) || b.StartsWith(a, StringComparison.Ordinal);
        }

        if (kind is "number" or "percent" or "money"
            && decimal.TryParse(Numeric(a), NumberStyles.Number, CultureInfo.InvariantCulture, out var x)
            && decimal.TryParse(Numeric(b), NumberStyles.Number, CultureInfo.InvariantCulture, out var y)
            && Unit(a) == Unit(b))
        {
            return x == y;
        }

        return false;
    }

    private static string Numeric(string value) => NonNumeric().Replace(value, "");

    private static string Unit(string value) => NumericPart().Replace(value, "").Trim().ToLowerInvariant();

    /// <summary>
    /// A Slack thread is written one message per line as "Name: text" (see SlackThreads). Returns whether a message by
    /// someone other than the asker follows the line that holds <paramref name="question"/>, and who asked.
    /// </summary>
    public static (bool Found, string? Asker, bool AnsweredByOther) SlackReplies(string threadText, string question)
    {
        var questionKey = SentenceKey(question);
        var lines = threadText.Replace("\r\n", "\n").Split('\n');
        string? asker = null;
        string? currentSpeaker = null;
        var found = false;
        foreach (var line in lines)
        {
            var match = SpeakerLine().Match(line);
            if (match.Success)
            {
                currentSpeaker = match.Groups[1].Value.Trim();
            }

            if (!found)
            {
                if (SentenceKey(Whitespace().Replace(line, " ")).Contains(questionKey, StringComparison.Ordinal))
                {
                    found = true;
                    asker = currentSpeaker;
                }

                continue;
            }

            if (match.Success && !string.Equals(currentSpeaker, asker, StringComparison.OrdinalIgnoreCase))
            {
                return (true, asker, true);
            }
        }

        return (found, asker, false);
    }

    /// <summary>"Name &lt;address&gt;" or a bare name or address, as documents store their author.</summary>
    public static (string? Name, string? Email) ParseAuthor(string? author)
    {
        if (string.IsNullOrWhiteSpace(author))
        {
            return (null, null);
        }

        var match = AuthorAddress().Match(author);
        if (match.Success)
        {
            var name = match.Groups[1].Value.Trim().Trim('"', '\'').Trim();
            return (name.Length == 0 ? null : name, match.Groups[2].Value.Trim().ToLowerInvariant());
        }

        return author.Contains('@') ? (null, author.Trim().ToLowerInvariant()) : (author.Trim(), null);
    }

    /// <summary>A phrase for a title or question: trimmed, a trailing period dropped, at most <paramref name="max"/> characters.</summary>
    public static string Phrase(string text, int max = 120)
    {
        var phrase = Whitespace().Replace(text, " ").Trim().TrimEnd('.', ',', ';', ':', ' ');
        if (phrase.Length > max)
        {
            var cut = phrase.LastIndexOf(' ', max);
            phrase = phrase[..(cut > max / 2 ? cut : max)] + "…";
        }

        return phrase;
    }

    /// <summary>A sentence quoted verbatim (whitespace collapsed), cut at <paramref name="max"/> characters.</summary>
    public static string Quote(string text, int max = 300)
    {
        var quote = Whitespace().Replace(text, " ").Trim();
        return quote.Length <= max ? quote : Phrase(quote, max);
    }

    /// <summary>Lower-cases the first letter unless the first word looks like a name or an acronym ("SLA", "Atlas").</summary>
    public static string Inline(string phrase)
    {
        if (phrase.Length < 2 || !char.IsUpper(phrase[0]))
        {
            return phrase;
        }

        var firstWord = phrase.Split(' ', 2)[0];
        var isArticle = firstWord is "The" or "A" or "An" or "Our" or "This" or "That" or "These" or "Those" or "We" or "It";
        return isArticle ? char.ToLowerInvariant(phrase[0]) + phrase[1..] : phrase;
    }

    [GeneratedRegex(@"\s+", RegexOptions.NonBacktracking)]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"[\p{L}\p{N}][\p{L}\p{N}'’\-.]*", RegexOptions.NonBacktracking)]
    private static partial Regex Word();

    [GeneratedRegex(@"^\s*(from|to|cc|bcc|sent|date|subject)\s*:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex HeaderLine();

    [GeneratedRegex(@"^\s*(?:[\p{Lu}][\p{L}'.-]*\s?){0,4}:?\s*(we|we'll|the team|our team)\s+(will|shall|are going to|plan to|plans to|intend to|aim to|'ll)\b(?!\s+not\b)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: SafeRegex.TimeoutMilliseconds)]
    private static partial Regex TeamCommitment();

    // "Tom Becker: ..." at the start of a sentence; at most four words so "Note that X: Y" stays.
    [GeneratedRegex(@"^(?:[\p{Lu}][\p{L}'.-]*\s?){1,4}:\s+", RegexOptions.NonBacktracking)]
    private static partial Regex Speaker();

    [GeneratedRegex(@"^([^:\n]{2,60}): ", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex SpeakerLine();

    [GeneratedRegex(@"^\s*(.*?)\s*<\s*([^<>\s]+@[^<>\s]+)\s*>\s*$", RegexOptions.NonBacktracking)]
    private static partial Regex AuthorAddress();

    [GeneratedRegex(
        @"\b(january|february|march|april|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\b\.?"
        + @"|\b(by|in|on|until|before|after|from|during|since|early|late|mid)\s+may\b|\bmay\s+\d{1,2}\b"
        + @"|\b\d{4}-\d{2}(-\d{2})?\b|\b\d{1,2}/\d{1,2}(/\d{2,4})?\b|\b(q[1-4]|h[12])\b|\b(19|20)\d{2}\b"
        + @"|\b(today|tonight|tomorrow|yesterday)\b"
        + @"|\b(next|this|last|coming|following)\s+(week|month|quarter|year|sprint|weekend|monday|tuesday|wednesday|thursday|friday|saturday|sunday|spring|summer|autumn|fall|winter)\b"
        + @"|\b(end|beginning|start|middle)\s+of\s+(the\s+|this\s+|next\s+)?(day|week|month|quarter|year|sprint)\b"
        + @"|\b(in|within)\s+(a|an|one|two|three|four|five|six|\d+|a\s+few|a\s+couple\s+of)\s+(days?|weeks?|months?|quarters?|years?|hours?)\b"
        + @"|\b(on|by|until|before|next|this)\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b"
        + @"|\b(in|by|this|next)\s+(the\s+)?(spring|summer|autumn|fall|winter)\b"
        + @"|\b\d{1,2}:\d{2}\b|\b(eod|eow|eom)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex TimeExpression();

    [GeneratedRegex(
        @"\b(will|shall)\s+(?!not\b)\w+|\w'll\s+\w+|\b(am|is|are)\s+going\s+to\b|\b(plans?|planned|planning|intends?|intended|aims?|aiming|commits?|committed)\s+to\b|\b(are|is)\s+to\s+\w+",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: SafeRegex.TimeoutMilliseconds)]
    private static partial Regex Commitment();

    [GeneratedRegex(
        @"\b(credentials?|passwords?|passphrases?|secrets?|api[ -]?keys?|private\s+keys?|ssh\s+keys?|access\s+keys?|recovery\s+codes?|break[- ]glass|vault|keychain|2fa|mfa)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Secrets();

    // "To rotate the secret, create ..." / "In order to restore X, run ...": an instruction for an operation.
    [GeneratedRegex(@"^\s*(to|in\s+order\s+to)\s+[a-z]+\b[^,.;]{3,120},\s*(please\s+)?[a-z]+\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Procedure();

    [GeneratedRegex(@"\b(is|are)\s+(stored|kept|located|saved|documented)\s+(in|on|at|under)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex StoredIn();

    [GeneratedRegex(@"\b(steps?\s+(to|for)|how\s+to|procedure\s+(to|for)|instructions\s+(to|for))\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Instructions();

    [GeneratedRegex(@"^(increas|decreas|grow|grew|rise|rose|risen|drop|fall|fell|declin|reach|improv|reduc|peak|went|go\b|up\b|down\b|doubl|tripl|halv|chang|year over|month over|quarter over)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex ChangePredicate();

    [GeneratedRegex(@"[^0-9.\-]", RegexOptions.NonBacktracking)]
    private static partial Regex NonNumeric();

    [GeneratedRegex(@"[0-9.,\-]", RegexOptions.NonBacktracking)]
    private static partial Regex NumericPart();
}
