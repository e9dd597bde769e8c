using System.Text.RegularExpressions;

namespace SecondBrain.Core.Knowledge.Extraction;

public static partial class SentenceAnalyzer
{
    /// <summary>
    /// Terms that are not plain acronyms: tags in brackets ("[HF-HOLD]") and short letter-digit codes ("PX-3", "SEV-1").
    /// Ticket-like references ("TG-512": letters, a hyphen and two or more digits) name one item, not a term.
    /// </summary>
    private static void Codes(SentenceContext c)
    {
        for (var k = 0; k < c.Count; k++)
        {
            var t = c.Tokens[k];
            if (!t.IsWord || c.MentionSpans.Exists(m => m.First <= k && k < m.End))
            {
                continue;
            }

            var text = c.Text.AsSpan(t.Start, t.Length);
            if (c.IsPunct(k - 1, '[') && c.IsPunct(k + 1, ']') && IsTagText(text))
            {
                var range = new TextRange(c.Tokens[k - 1].Start, c.Tokens[k + 1].End);
                c.Mentions.Add(new EntityMention(EntityType.Acronym, c.Text[range.Start..range.End], text.ToString().ToLowerInvariant(), range));
                c.MentionSpans.Add((k - 1, k + 2, EntityType.Acronym));
            }
            else if (IsCode(text))
            {
                c.Mentions.Add(new EntityMention(EntityType.Acronym, text.ToString(), text.ToString().ToLowerInvariant(), new TextRange(t.Start, t.End)));
                c.MentionSpans.Add((k, k + 1, EntityType.Acronym));
            }
        }
    }

    /// <summary>"HF-HOLD", "TG-URGENT", "CARRIER": capitals, digits and hyphens, at least two letters.</summary>
    private static bool IsTagText(ReadOnlySpan<char> text)
    {
        var letters = 0;
        foreach (var ch in text)
        {
            if (char.IsUpper(ch))
            {
                letters++;
            }
            else if (!char.IsDigit(ch) && ch != '-')
            {
                return false;
            }
        }

        return letters >= 2 && text.Length <= 24;
    }

    /// <summary>"PX-3", "SEV-1", "A-4": one to five capitals, a hyphen and one digit (optionally a letter after it).</summary>
    private static bool IsCode(ReadOnlySpan<char> text)
    {
        var hyphen = text.IndexOf('-');
        if (hyphen is < 1 or > 5 || text.Length - hyphen is < 2 or > 3)
        {
            return false;
        }

        foreach (var ch in text[..hyphen])
        {
            if (!char.IsAsciiLetterUpper(ch))
            {
                return false;
            }
        }

        var tail = text[(hyphen + 1)..];
        return char.IsAsciiDigit(tail[0]) && (tail.Length == 1 || char.IsAsciiLetterUpper(tail[1]));
    }

    /// <summary>
    /// Definitions written as glossaries write them: a bold term leading its line ("**Waypoint**: our route-planning
    /// product", "**[TG-URGENT]** marks a declaration ...", "**TG-** tickets are in the Tollgate project"), an acronym,
    /// tag or code with a colon or dash ("MRN – Movement Reference Number"), or a code word explained in a parenthesis
    /// that follows it ("Lodestar (the rewrite of the route solver)").
    /// </summary>
    private static void GlossaryDefinitions(SentenceContext c, List<Definition> definitions)
    {
        var text = c.Text;
        if (BoldLead().IsMatch(text))
        {
            // Every bold term of a glossary line defines it: "**TG-** tickets are in ..., **WPT-** in the Waypoint project".
            foreach (Match bold in BoldTerm().Matches(text))
            {
                var term = bold.Groups["term"];
                var cleaned = term.Value.Trim().TrimEnd(':', '-', '–', '—', ' ').Trim();
                var meaning = text[(bold.Index + bold.Length)..].TrimStart(':', '-', '–', '—', ' ');
                if (cleaned.Length > 0 && meaning.Length >= 3 && !IsSignedHeading(cleaned, meaning))
                {
                    Add(cleaned, new TextRange(term.Index, term.Index + term.Length), meaning, text.Length - meaning.Length, "**");
                }
            }
        }
        else if (ColonLead().Match(text) is { Success: true } colon)
        {
            var term = colon.Groups["term"];
            Add(term.Value, new TextRange(term.Index, term.Index + term.Length), colon.Groups["meaning"].Value, colon.Groups["meaning"].Index, ":");
        }

        foreach (Match match in Explained().Matches(text))
        {
            var term = match.Groups["term"];
            var meaning = match.Groups["meaning"];
            if (meaning.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= 3 && !char.IsDigit(meaning.Value[0])
                && !meaning.Value.StartsWith("e.g", StringComparison.OrdinalIgnoreCase) && !meaning.Value.StartsWith("see ", StringComparison.OrdinalIgnoreCase)
                && !definitions.Exists(d => d.TermRange.Start == term.Index))
            {
                Add(term.Value, new TextRange(term.Index, term.Index + term.Length), meaning.Value, meaning.Index, "()");
            }
        }

        void Add(string term, TextRange termRange, string meaning, int meaningStart, string cue)
        {
            // "TG-" (a prefix) defines "TG"; "[TG-URGENT]" defines the tag as written and without its brackets.
            var bare = term.Trim('[', ']', '`', '"').TrimEnd('-').Trim();
            if (bare.Length == 0 || definitions.Exists(d => d.TermKey == bare.ToLowerInvariant()))
            {
                return;
            }

            var meaningRange = new TextRange(meaningStart, Math.Min(text.Length, meaningStart + meaning.Length));
            definitions.Add(new Definition(bare, bare.ToLowerInvariant(), meaning.Trim(), DefinitionKind.Lexical, cue, termRange, meaningRange));
        }
    }

    /// <summary>
    /// A bold name leading a comment or a log entry ("**Tomasz Nowak** - 12 Jan 11:30", "**Dana:** agreed") says who
    /// wrote it, not what a term means: a person's name (a known first name, then capitalised words) or anything
    /// followed by a time stamp.
    /// </summary>
    private static bool IsSignedHeading(string term, string meaning)
    {
        if (char.IsDigit(meaning.TrimStart()[0]) || TimeStampLead().IsMatch(meaning))
        {
            return true;
        }

        var words = term.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length is >= 1 and <= 4 && words.All(w => char.IsUpper(w[0]))
            && (WordLists.Is(words[0].ToLowerInvariant(), WordClass.FirstName) || WordLists.Is(words[0].ToLowerInvariant(), WordClass.AmbiguousFirstName));
    }

    [GeneratedRegex(@"^\s*(mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|today|yesterday)\w*\.?\s+\d", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex TimeStampLead();

    [GeneratedRegex(@"^\*\*(?<term>[^*]{1,60})\*\*", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex BoldLead();

    [GeneratedRegex(@"\*\*(?<term>[^*]{1,60})\*\*", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex BoldTerm();

    [GeneratedRegex(@"^(?<term>\[?[A-Z][A-Z0-9]*(?:[-/][A-Z0-9]+)*\]?)\s*(?::|\s[–—-])\s+(?<meaning>\S.{2,})$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex ColonLead();

    [GeneratedRegex(@"(?<term>\[[A-Z][A-Z0-9-]+\]|\b[A-Z][a-z]{2,}[A-Za-z]*|\b[A-Z][A-Z0-9-]{1,9})\s\((?<meaning>[^()]{8,200})\)", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Explained();
}
