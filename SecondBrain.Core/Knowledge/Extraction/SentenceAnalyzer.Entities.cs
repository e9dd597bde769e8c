using System.Collections.Frozen;

namespace SecondBrain.Core.Knowledge.Extraction;

public static partial class SentenceAnalyzer
{
    private static readonly FrozenSet<string> NameConnectors = FrozenSet.Create(StringComparer.Ordinal, "of", "de", "van", "von", "der", "du", "da", "di", "le", "del");

    /// <summary>
    /// Entity mentions from the token stream: e-mail addresses and @handles (people), capitalised runs classified by
    /// their words (honorific: person; Inc/Corp/LLC/GmbH...: organisation; "Project X": project; "X service": system;
    /// a known first name: person; "at X": organisation), lower-case "billing pipeline"-style systems, CamelCase and
    /// snake_case identifiers (systems) and acronyms. A capitalised run that fits none of these is left out rather
    /// than guessed. Acronyms skip a stop list of everyday ones (OK, FYI, ASAP, US, CEO, time zones, ...) and
    /// sentences written in capitals.
    /// </summary>
    private static void FindEntities(SentenceContext c)
    {
        var covered = new bool[c.Count + 1];
        for (var k = 0; k < c.Count; k++)
        {
            var t = c.Tokens[k];
            if (t.Kind == TokenKind.Email)
            {
                AddMention(c, EntityType.Person, k, k + 1, covered, c.Slice(k, k + 1).ToLowerInvariant());
            }
            else if (t.Kind == TokenKind.Handle)
            {
                AddMention(c, EntityType.Person, k, k + 1, covered, c.Slice(k, k + 1)[1..].ToLowerInvariant());
            }
        }

        for (var i = 0; i < c.Count;)
        {
            if (!IsCapitalisedWord(c, i))
            {
                i++;
                continue;
            }

            var j = i + 1;
            while (j < c.Count)
            {
                if (IsCapitalisedWord(c, j))
                {
                    j++;
                }
                else if ((c.Tokens[j].IsWord && NameConnectors.Contains(c.Lower(j)) || c.IsPunct(j, '&')) && j + 1 < c.Count && IsCapitalisedWord(c, j + 1))
                {
                    j += 2;
                }
                else if (c.IsPunct(j, '.') && j + 1 < c.Count && IsCapitalisedWord(c, j + 1) && (c.Tokens[j - 1].Length == 1 || c.Tokens[j - 1].Is(WordClass.Honorific)))
                {
                    // Initials and titles: "John F. Kennedy", "Dr. Smith".
                    j++;
                }
                else
                {
                    break;
                }
            }

            var start = i;
            while (start < j && !(start + 1 < j && c.Tokens[start].Is(WordClass.FirstName | WordClass.AmbiguousFirstName))
                && (start == c.FirstWord ? IsOrdinaryWord(c.Tokens[start])
                    : c.Tokens[start].IsWord && c.Tokens[start].Is(WordClass.Article | WordClass.Determiner | WordClass.Preposition | WordClass.Conjunction | WordClass.Discourse | WordClass.Adverb) && !c.Tokens[start].Has(TokenFlags.AllCaps)))
            {
                start++;
            }

            if (start < j)
            {
                ClassifyRun(c, start, j, covered);
            }

            i = j;
        }

        for (var k = 0; k < c.Count; k++)
        {
            var t = c.Tokens[k];
            if (covered[k] || !t.IsWord)
            {
                continue;
            }

            var text = c.Text.AsSpan(t.Start, t.Length);
            if ((t.Has(TokenFlags.CamelCase) && !t.Has(TokenFlags.AllCaps) && t.Length >= 4 && !text.StartsWith("Mc", StringComparison.Ordinal) && !text.StartsWith("Mac", StringComparison.Ordinal))
                || (t.Has(TokenFlags.Identifier) && t.Has(TokenFlags.HasLetter) && t.Length >= 4 && !(c.IsPunct(k - 1, ':') && c.IsPunct(k + 1, ':'))))
            {
                AddMention(c, EntityType.System, k, k + 1, covered);
            }
        }

        LowerCaseSystems(c, covered);
        Acronyms(c);
        Codes(c);
    }

    private static bool IsCapitalisedWord(SentenceContext c, int k)
    {
        var t = c.Tokens[k];
        if (!t.IsWord || !t.Has(TokenFlags.Capitalized) || !t.Has(TokenFlags.HasLetter) || c.IsTime(k))
        {
            return false;
        }

        if (t.Is(WordClass.Month) || t.Is(WordClass.Weekday) || t.Is(WordClass.RelativeDay))
        {
            return false;
        }

        var text = c.Text.AsSpan(t.Start, t.Length);
        return !(text is "I" || text.StartsWith("I'", StringComparison.Ordinal) || text.StartsWith("I’", StringComparison.Ordinal));
    }

    /// <summary>A sentence-initial word is capitalised by position alone; these ones are not names.</summary>
    private static bool IsOrdinaryWord(Token t) =>
        t.IsWord && !t.Has(TokenFlags.AllCaps)
        && (t.Is(WordClass.FunctionWord) || t.Is(WordClass.QuestionAux) || t.Is(WordClass.GenericAdjective) || t.Is(WordClass.NumberWord) || t.IsVerb || t.TriggerWord >= 0 || t.Has(TokenFlags.NegatedContraction));

    private static void ClassifyRun(SentenceContext c, int s, int e, bool[] covered)
    {
        var first = c.Tokens[s];
        var last = c.Tokens[e - 1];
        var length = e - s;
        var next = e < c.Count && c.Tokens[e].IsWord && !c.Tokens[e].Has(TokenFlags.Capitalized) ? c.Tokens[e] : default;
        var nextIsWord = e < c.Count && c.Tokens[e].IsWord && !c.Tokens[e].Has(TokenFlags.Capitalized);
        EntityType? type = null;
        var end = e;
        if (first.Is(WordClass.Honorific) && length >= 2)
        {
            type = EntityType.Person;
        }
        else if (length >= 2 && (last.Is(WordClass.OrgSuffix) || (first.Is(WordClass.OrgSuffix) && c.IsWord(s + 1, "of"))))
        {
            // "Initech LLC", "Bank of America", "University of Houston".
            type = EntityType.Organization;
        }
        else if (length >= 2 && (first.Is(WordClass.ProjectWord) || last.Is(WordClass.ProjectWord)))
        {
            type = EntityType.Project;
        }
        else if (nextIsWord && next.Is(WordClass.SystemHead))
        {
            type = EntityType.System;
            end = e + 1;
        }
        else if (nextIsWord && next.Is(WordClass.ProjectWord))
        {
            type = EntityType.Project;
            end = e + 1;
        }
        else if (length >= 2 && last.Is(WordClass.SystemHead))
        {
            type = EntityType.System;
        }
        else if (((first.Is(WordClass.FirstName) && length <= 3) || (first.Is(WordClass.AmbiguousFirstName) && length is 2 or 3)) && NameTail(c, s + 1, e))
        {
            type = EntityType.Person;
        }
        else if (s > 0 && c.IsWord(s - 1, "at") && length <= 4 && !(first.Has(TokenFlags.AllCaps) && first.Is(WordClass.AcronymStop)) && IsAffiliation(c, s, e))
        {
            type = EntityType.Organization;
        }
        else if (length == 1 && ProperName(c, s) is { } named)
        {
            (type, end) = named;
        }

        if (type is { } found)
        {
            AddMention(c, found, s, end, covered);
        }
    }

    /// <summary>
    /// "at X" names an organisation when it says where someone belongs: "she works at Enron", "our contact at Lumen",
    /// "Dana at Globex", "the team at Initech". After an event or an action ("the installs at Headingley", "cutover at
    /// Harehills done", "fieldwork at your office") or before a place noun ("at the Leeds office"), X is a place.
    /// </summary>
    private static bool IsAffiliation(SentenceContext c, int s, int e)
    {
        if (e < c.Count && c.Tokens[e].IsWord && (c.Tokens[e].Is(WordClass.PlaceNoun) || SiteNouns.Contains(c.Lower(e))))
        {
            return false;
        }

        var before = s - 2;
        if (before < 0 || !c.Tokens[before].IsWord)
        {
            return false;
        }

        var word = c.Tokens[before];
        return AffiliationWords.Contains(c.Lower(before)) || word.Is(WordClass.GroupNoun)
            || (word.Has(TokenFlags.Capitalized) && (word.Is(WordClass.FirstName) || word.Is(WordClass.AmbiguousFirstName)));
    }

    private static readonly FrozenSet<string> AffiliationWords = FrozenSet.Create(StringComparer.Ordinal,
        "work", "works", "worked", "working", "employed", "intern", "interned", "interning", "job", "role", "position", "career", "over",
        "someone", "somebody", "anyone", "anybody", "everyone", "nobody", "contact", "contacts", "colleague", "colleagues", "friend", "friends",
        "person", "guys", "engineer", "engineers", "developer", "developers", "manager", "managers", "director", "directors", "head", "lead",
        "rep", "reps", "representative", "representatives", "counterpart", "counterparts", "consultant", "consultants", "analyst", "analysts",
        "auditor", "auditors", "lawyer", "lawyers", "counsel", "cto", "ceo", "cfo", "coo", "ciso", "vp", "founder", "cofounder", "co-founder",
        "researcher", "researchers", "professor", "student", "students", "owner", "advisor", "adviser", "specialist", "officer", "accountant");

    private static readonly FrozenSet<string> SiteNouns = FrozenSet.Create(StringComparer.Ordinal,
        "site", "sites", "clinic", "clinics", "branch", "branches", "store", "shop", "depot", "warehouse", "plant", "factory", "yard", "premises",
        "server", "servers", "firewall", "network", "desk", "reception", "surgery", "practice", "hospital", "ward", "lab", "centre", "center",
        "school", "station", "port", "terminal", "airport", "hotel", "venue", "location", "locations", "facility", "facilities", "kitchen");

    private static readonly FrozenSet<string> Salutations = FrozenSet.Create(StringComparer.Ordinal,
        "dear", "hi", "hello", "hey", "thanks", "thank", "cheers", "regards", "best", "sincerely", "yours", "greetings", "morning", "afternoon", "evening", "welcome", "congrats", "congratulations", "cc");

    /// <summary>
    /// A lone capitalised word used as a name mid-sentence ("the Atlas launch", "single sign-on in Atlas"): a project,
    /// or a system when a system head follows within three words ("the Helios data warehouse"). Not a common word,
    /// a first name, a verb or trigger word, an acronym, a nationality adjective ("European customers"), nor a word
    /// capitalised by its position (sentence start, after a colon, quote or bullet), after a greeting or sign-off,
    /// or inside quotes.
    /// </summary>
    private static (EntityType Type, int End)? ProperName(SentenceContext c, int s)
    {
        var t = c.Tokens[s];
        if (s == c.FirstWord || s == 0 || t.Has(TokenFlags.AllCaps) || t.Length < 3 || t.Class != WordClass.None || t.IsVerb || t.TriggerWord >= 0
            || !char.IsUpper(c.Text[t.Start]) || t.Has(TokenFlags.CamelCase) || t.Has(TokenFlags.Identifier))
        {
            return null;
        }

        var lower = c.Lower(s);
        var bare = t.Has(TokenFlags.Possessive) ? lower[..^2] : lower;
        if (WordLists.Classes.ContainsKey(bare) || WordLists.Classes.ContainsKey(Expressions.Singular(bare)))
        {
            return null;
        }

        var previous = s - 1;
        if (!(c.Tokens[previous].IsWord || c.Tokens[previous].Kind == TokenKind.Number || c.IsPunct(previous, ',') || c.IsPunct(previous, '&')))
        {
            return null;
        }

        var greeting = c.IsPunct(previous, ',') ? previous - 1 : previous;
        if (greeting >= 0 && c.Tokens[greeting].IsWord && Salutations.Contains(c.Lower(greeting)))
        {
            return null;
        }

        var quotes = 0;
        for (var k = 0; k < s; k++)
        {
            if (c.Tokens[k].Kind == TokenKind.Punct && c.Text[c.Tokens[k].Start] is '"' or '“' or '”')
            {
                quotes++;
            }
        }

        if (quotes % 2 == 1)
        {
            return null;
        }

        var nextIsLowerWord = s + 1 < c.Count && c.Tokens[s + 1].IsWord && !c.Tokens[s + 1].Has(TokenFlags.Capitalized);
        if (nextIsLowerWord && (bare.EndsWith("ean", StringComparison.Ordinal) || bare.EndsWith("ian", StringComparison.Ordinal)
            || bare.EndsWith("ese", StringComparison.Ordinal) || bare.EndsWith("ish", StringComparison.Ordinal)))
        {
            return null;
        }

        foreach (var mention in c.Mentions)
        {
            if (mention.Type == EntityType.Person && mention.Text.Split(' ').Contains(c.Slice(s, s + 1), StringComparer.OrdinalIgnoreCase))
            {
                return null;
            }
        }

        for (var k = s + 1; k < c.Count && k <= s + 3; k++)
        {
            var next = c.Tokens[k];
            if (!next.IsWord || next.Has(TokenFlags.Capitalized) || next.Is(WordClass.FunctionWord) || next.Has(TokenFlags.NegatedContraction))
            {
                break;
            }

            if (next.Is(WordClass.SystemHead))
            {
                return (EntityType.System, k + 1);
            }

            if (next.IsVerb && !next.Is(WordClass.ProcessNoun))
            {
                break;
            }
        }

        return (EntityType.Project, s + 1);
    }

    private static bool NameTail(SentenceContext c, int from, int to)
    {
        for (var k = from; k < to; k++)
        {
            var t = c.Tokens[k];
            if (c.IsPunct(k, '.'))
            {
                continue;
            }

            if (!t.IsWord || t.Has(TokenFlags.AllCaps) && t.Length > 2 || t.Is(WordClass.FunctionWord) || t.Is(WordClass.SystemHead) || t.Is(WordClass.OrgSuffix)
                || t.Is(WordClass.ProjectWord) || t.Is(WordClass.GroupNoun))
            {
                return false;
            }
        }

        return true;
    }

    private static void LowerCaseSystems(SentenceContext c, bool[] covered)
    {
        for (var h = 1; h < c.Count; h++)
        {
            var t = c.Tokens[h];
            if (covered[h] || !t.IsWord || t.Has(TokenFlags.Capitalized) || !(t.Is(WordClass.SystemHead) || t.Is(WordClass.ProjectWord)))
            {
                continue;
            }

            var k = h;
            while (k > 0 && h - k < 3 && !covered[k - 1] && c.Tokens[k - 1].IsWord && c.Tokens[k - 1].Has(TokenFlags.HasLetter) && !c.Tokens[k - 1].Has(TokenFlags.Capitalized)
                && !c.Tokens[k - 1].Is(WordClass.FunctionWord) && !c.Tokens[k - 1].Is(WordClass.QuestionWord) && !c.Tokens[k - 1].Has(TokenFlags.NegatedContraction)
                && !c.Tokens[k - 1].Is(WordClass.SystemHead))
            {
                k--;
            }

            var s = k;
            while (s < h && c.Tokens[s].Is(WordClass.GenericAdjective))
            {
                s++;
            }

            if (s == h)
            {
                continue;
            }

            var before = k - 1;
            var anchored = before < 0 || c.IsClauseBreak(before) || (c.Tokens[before].IsWord
                && (c.Tokens[before].Is(WordClass.Article) || (c.Tokens[before].Is(WordClass.Determiner) && !c.Tokens[before].Is(WordClass.Negation))
                    || c.Tokens[before].Is(WordClass.Preposition) || c.Tokens[before].Has(TokenFlags.Possessive)));
            if (anchored)
            {
                AddMention(c, t.Is(WordClass.ProjectWord) ? EntityType.Project : EntityType.System, s, h + 1, covered);
            }
        }
    }

    private static void Acronyms(SentenceContext c)
    {
        var words = 0;
        var capitals = 0;
        foreach (var t in c.Tokens)
        {
            if (t.IsWord && t.Has(TokenFlags.HasLetter) && t.Length > 1)
            {
                words++;
                capitals += t.Has(TokenFlags.AllCaps) ? 1 : 0;
            }
        }

        if (words >= 4 && capitals * 10 > words * 6)
        {
            // Written in capitals: every word looks like an acronym.
            return;
        }

        for (var k = 0; k < c.Count; k++)
        {
            if (AcronymText(c, k) is not { } acronym || c.IsTime(k))
            {
                continue;
            }

            var t = c.Tokens[k];
            var range = new TextRange(t.Start, t.End);
            var text = c.Text[t.Start..t.End];
            c.Mentions.Add(new EntityMention(EntityType.Acronym, text, acronym.ToLowerInvariant(), range));
            c.MentionSpans.Add((k, k + 1, EntityType.Acronym));
        }
    }

    /// <summary>The acronym a token spells (2-6 capitals, digits allowed after the first; "APIs" spells "API"), or null.</summary>
    private static string? AcronymText(SentenceContext c, int k)
    {
        var t = c.Tokens[k];
        if (!t.IsWord || t.Length > 8 || !char.IsUpper(c.Text[t.Start]))
        {
            return null;
        }

        var text = c.Text.AsSpan(t.Start, t.Length);
        if (text.EndsWith("'s", StringComparison.Ordinal) || text.EndsWith("’s", StringComparison.Ordinal))
        {
            text = text[..^2];
        }
        else if (text.Length > 2 && text[^1] == 's' && !t.Has(TokenFlags.AllCaps))
        {
            text = text[..^1];
        }

        var letters = 0;
        foreach (var ch in text)
        {
            if (char.IsUpper(ch))
            {
                letters++;
            }
            else if (!char.IsDigit(ch))
            {
                return null;
            }
        }

        if (letters is < 2 or > 6)
        {
            return null;
        }

        var result = text.ToString();
        var lower = result.ToLowerInvariant();

        // Capitalised ordinary words ("ANY", "NOTE", "RISK") are emphasis, not acronyms.
        if (WordLists.Is(lower, WordClass.AcronymStop) || (WordLists.Classes.ContainsKey(lower) && !WordLists.Is(lower, WordClass.SystemHead))
            || (letters >= 4 && (t.TriggerWord >= 0 || t.IsVerb)))
        {
            return null;
        }

        return result;
    }

    private static void AddMention(SentenceContext c, EntityType type, int first, int end, bool[] covered, string? key = null)
    {
        if (c.Phrase(first, end) is not { } phrase)
        {
            return;
        }

        c.Mentions.Add(new EntityMention(type, phrase.Text, key ?? KnowledgeKeys.Entity(phrase.Text), phrase.Range));
        c.MentionSpans.Add((first, end, type));
        for (var k = first; k < end; k++)
        {
            covered[k] = true;
        }
    }

    private static List<Definition> FindDefinitions(SentenceContext c, List<Frame> frames)
    {
        var definitions = new List<Definition>();
        foreach (var frame in frames)
        {
            if (frame.Type == FrameType.Definition && frame.Slots.TryGetValue(FrameSlots.Term, out var term) && frame.Slots.TryGetValue(FrameSlots.Definition, out var meaning))
            {
                definitions.Add(new Definition(term, KnowledgeKeys.Entity(term), meaning, DefinitionKind.Lexical, frame.TriggerPhrase,
                    frame.SlotRanges[FrameSlots.Term], frame.SlotRanges[FrameSlots.Definition]));
            }
        }

        for (var open = 0; open < c.Count; open++)
        {
            if (!c.IsPunct(open, '('))
            {
                continue;
            }

            var close = open + 1;
            while (close < c.Count && close - open < 14 && !c.IsPunct(close, ')'))
            {
                close++;
            }

            if (close >= c.Count || !c.IsPunct(close, ')') || close == open + 1)
            {
                continue;
            }

            if (close == open + 2 && AcronymText(c, open + 1) is { } inner)
            {
                // "Service Level Agreement (SLA)"
                var from = open;
                var words = 0;
                while (from > 0 && words < Math.Min(inner.Length + 5, inner.Length * 2) && !c.IsClauseBreak(from - 1))
                {
                    from--;
                    words += c.Tokens[from].IsWord ? 1 : 0;
                }

                if (from < open && LongFormStart(inner, c.Text[c.Tokens[from].Start..c.Tokens[open - 1].End]) is var start and >= 0)
                {
                    var meaningRange = new TextRange(c.Tokens[from].Start + start, c.Tokens[open - 1].End);
                    definitions.Add(new Definition(inner, inner.ToLowerInvariant(), c.Text[meaningRange.Start..meaningRange.End], DefinitionKind.AcronymExpansion, "()",
                        c.RangeOf(open + 1, open + 2), meaningRange));
                }
            }
            else if (open > 0 && AcronymText(c, open - 1) is { } outer && close - open > 2)
            {
                // "SLA (Service Level Agreement)"
                var innerText = c.Text[c.Tokens[open + 1].Start..c.Tokens[close - 1].End];
                if (LongFormStart(outer, innerText) == 0)
                {
                    definitions.Add(new Definition(outer, outer.ToLowerInvariant(), innerText, DefinitionKind.AcronymExpansion, "()",
                        c.RangeOf(open - 1, open), c.RangeOf(open + 1, close)));
                }
            }
        }

        GlossaryDefinitions(c, definitions);
        foreach (var definition in definitions)
        {
            c.Mentions.Add(new EntityMention(EntityType.Term, definition.Term, definition.TermKey, definition.TermRange));
        }

        return definitions;
    }

    /// <summary>
    /// Schwartz and Hearst's acronym matching: walk the short form's letters right to left through the long form,
    /// the first letter having to start a word. Returns where the long form starts, or -1.
    /// </summary>
    internal static int LongFormStart(string shortForm, string longForm)
    {
        var s = shortForm.Length - 1;
        var l = longForm.Length - 1;
        while (s >= 0)
        {
            var ch = char.ToLowerInvariant(shortForm[s]);
            if (!char.IsLetterOrDigit(ch))
            {
                s--;
                continue;
            }

            while ((l >= 0 && char.ToLowerInvariant(longForm[l]) != ch) || (s == 0 && l > 0 && char.IsLetterOrDigit(longForm[l - 1])))
            {
                l--;
            }

            if (l < 0)
            {
                return -1;
            }

            l--;
            s--;
        }

        var start = l < 0 ? 0 : longForm.LastIndexOf(' ', l) + 1;
        var candidate = longForm[start..];
        return candidate.Length > shortForm.Length && !candidate.Contains(shortForm, StringComparison.Ordinal) && candidate.Contains(' ') ? start : -1;
    }

    private static List<PronounReference> FindPronouns(SentenceContext c)
    {
        var pronouns = new List<PronounReference>();
        for (var k = 0; k < c.Count; k++)
        {
            if (!c.Tokens[k].IsWord)
            {
                continue;
            }

            var lower = c.Lower(k);
            PronounKind? kind = lower switch
            {
                "he" or "him" or "his" or "himself" or "she" or "her" or "hers" or "herself" => PronounKind.Person,
                "it" or "its" or "itself" or "it's" => PronounKind.Thing,
                "they" or "them" or "their" or "theirs" or "themselves" => PronounKind.Group,
                "i" or "me" or "my" or "mine" or "myself" or "i'm" or "i'll" or "i've" or "i'd" => PronounKind.Speaker,
                _ => null
            };

            if (kind == PronounKind.Thing && IsExpletive(c, k))
            {
                continue;
            }

            if (kind is { } found)
            {
                pronouns.Add(new PronounReference(c.Slice(k, k + 1), found, null, c.RangeOf(k, k + 1)));
                continue;
            }

            if (lower is "this" or "that" or "these" or "those" && k + 1 < c.Count && c.Tokens[k + 1].IsWord
                && (c.Tokens[k + 1].Is(WordClass.SystemHead) || c.Tokens[k + 1].Is(WordClass.ProjectWord) || c.Tokens[k + 1].Is(WordClass.GroupNoun)
                    || c.Lower(k + 1) is "person" or "guy" or "vendor" or "tool" or "feature" or "product"))
            {
                pronouns.Add(new PronounReference(c.Slice(k, k + 2), PronounKind.Demonstrative, c.Lower(k + 1), c.RangeOf(k, k + 2)));
                k++;
            }
        }

        return pronouns;
    }

    /// <summary>"It is important to ...", "It was decided that ...", "It seems ...": an "it" that refers to nothing.</summary>
    private static bool IsExpletive(SentenceContext c, int k)
    {
        var j = k + 1;
        if (c.Lower(k) != "it's")
        {
            if (j >= c.Count || !c.Tokens[j].IsWord)
            {
                return false;
            }

            if (c.Lower(j) is "seems" or "seemed" or "looks" or "appears" or "appeared")
            {
                return true;
            }

            if (!c.Tokens[j].Is(WordClass.Copula))
            {
                return false;
            }

            j++;
        }

        for (var m = j; m < c.Count && m < j + 4; m++)
        {
            if (c.IsWord(m, "to") || c.IsWord(m, "that"))
            {
                return true;
            }
        }

        return false;
    }
}
