namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>
/// Analyses one sentence on its own: frames with slots, entity mentions, definitions, claims, pronouns, whether it
/// asks something and whether it explains the sentence before it. The result is a pure function of the sentence
/// text and the lexicon (<see cref="LexiconVersion"/>), so it can be cached across documents and instances; all
/// offsets are relative to the sentence. Thread-safe: every call has its own state.
/// </summary>
public static partial class SentenceAnalyzer
{
    public static string LexiconVersion => TriggerLexicon.Default.Version;

    public static SentenceAnalysis Analyze(string sentence) => Analyze(sentence, TriggerLexicon.Default);

    public static SentenceAnalysis Analyze(string sentence, TriggerLexicon lexicon)
    {
        ArgumentNullException.ThrowIfNull(sentence);
        ArgumentNullException.ThrowIfNull(lexicon);
        if (sentence.AsSpan().IsWhiteSpace())
        {
            return SentenceAnalysis.Empty;
        }

        var c = new SentenceContext(sentence, lexicon);
        FindEntities(c);
        var frames = FindFrames(c);
        var definitions = FindDefinitions(c, frames);
        var isQuestion = FindQuestion(c, frames);

        // A question asserts nothing, so it makes no claims.
        var claims = isQuestion ? [] : FindClaims(c, frames);
        var pronouns = FindPronouns(c);
        return new SentenceAnalysis(isQuestion, frames, c.Mentions, claims, definitions, pronouns, ExplainsPrevious(c, frames));
    }

    private sealed class SlotSet
    {
        public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, TextRange> Ranges { get; } = new(StringComparer.Ordinal);

        public void Set(string name, (string Text, TextRange Range)? value)
        {
            if (value is { } v && !Values.ContainsKey(name))
            {
                Values[name] = v.Text;
                Ranges[name] = v.Range;
            }
        }

        public bool Has(string name) => Values.ContainsKey(name);
    }

    private static List<Frame> FindFrames(SentenceContext c)
    {
        var candidates = new List<TokenMatch>();
        foreach (var match in c.Matches)
        {
            var entry = c.Entry(match);
            if (entry.Frame is not null && Plausible(c, match, entry))
            {
                candidates.Add(match);
            }
        }

        // A longer phrase of the same frame hides a shorter one it overlaps ("must" in "must not", "agreed that" in
        // "it was agreed that"); then one frame per type: the strongest entry, then the longest, then the first.
        var chosen = new Dictionary<FrameType, TokenMatch>();
        foreach (var match in candidates)
        {
            var type = c.Entry(match).Frame!.Value;
            var hidden = candidates.Exists(o => o != match && c.Entry(o).Frame == type && o.First < match.End && o.End > match.First && o.End - o.First > match.End - match.First);
            if (!hidden && (!chosen.TryGetValue(type, out var best) || Better(c, match, best)))
            {
                chosen[type] = match;
            }
        }

        var frames = new List<Frame>();
        var ownership = chosen.TryGetValue(FrameType.Ownership, out var owned) ? BuildFrame(c, owned, null) : null;
        foreach (var type in Enum.GetValues<FrameType>())
        {
            if (type == FrameType.Ownership)
            {
                if (ownership is not null)
                {
                    frames.Add(ownership);
                }
            }
            else if (chosen.TryGetValue(type, out var match) && BuildFrame(c, match, ownership) is { } frame)
            {
                frames.Add(frame);
            }
        }

        return frames;
    }

    private static bool Better(SentenceContext c, TokenMatch candidate, TokenMatch best)
    {
        var (a, b) = (c.Entry(candidate), c.Entry(best));
        if (a.Weight != b.Weight)
        {
            return a.Weight > b.Weight;
        }

        var (la, lb) = (candidate.End - candidate.First, best.End - best.First);
        return la != lb ? la > lb : candidate.First < best.First;
    }

    private static bool Plausible(SentenceContext c, TokenMatch match, TriggerEntry entry)
    {
        if (entry.Role == TriggerRole.Frequency && !c.IsFrequency(match))
        {
            // "every customer", "each team lead", "three times".
            return false;
        }

        var previous = match.First - 1;
        var prev = previous >= 0 ? c.Tokens[previous] : default;
        var prevIsWord = previous >= 0 && prev.IsWord;
        if (entry.Role == TriggerRole.Noun && match.End - match.First == 1 && prevIsWord
            && (c.IsWord(previous, "to") || (prev.Is(WordClass.Auxiliary) && !prev.Is(WordClass.Copula) && !prev.Is(WordClass.Determiner))
                || (prev.Is(WordClass.SubjectPronoun) && !prev.Is(WordClass.Determiner) && !c.IsWord(previous, "it"))))
        {
            // A verb use of a noun trigger: "we process refunds", "I'll call you", "to issue a refund".
            return false;
        }

        var head = c.Tokens[match.First];
        if (entry.Role == TriggerRole.Noun && match.End - match.First == 1 && head.IsVerb
            && (c.IsWord(previous, "please") || c.IsWord(previous, "let's") || (match.First == c.FirstWord && LightStemmer.StemLength(c.Lower(match.First)) >= head.Length - 1)))
        {
            // An imperative: "Please call Kay", "Call me", "Review the doc".
            return false;
        }

        if (entry.Role == TriggerRole.Noun && match.End - match.First == 1 && head.IsWord && !entry.Phrase.EndsWith("ed", StringComparison.Ordinal)
            && c.Text.AsSpan(head.Start, head.Length).EndsWith("ed", StringComparison.OrdinalIgnoreCase))
        {
            // An inflected verb that stems like the noun: "is called" is not a call.
            return false;
        }

        if (entry.Role == TriggerRole.Noun && match.End - match.First == 1 && entry.Frame is FrameType.Problem or FrameType.Event or FrameType.Metric
            && match.End < c.Count && c.Tokens[match.End].IsWord && !c.Tokens[match.End].Is(WordClass.FunctionWord) && !c.Tokens[match.End].Has(TokenFlags.Capitalized)
            && !c.IsTime(match.End) && !c.Tokens[match.End].Has(TokenFlags.NegatedContraction) && !(c.Tokens[match.End].IsVerb && !c.IsNominal(match.End)))
        {
            // A modifier of another noun: "the incident review", "meeting notes".
            return false;
        }

        if (entry.Frame == FrameType.Problem && entry.Role == TriggerRole.Noun
            && c.Matches.Exists(m => c.Entry(m).Role == TriggerRole.Purpose && (m.End == match.First || (m.End == match.First - 1 && c.Tokens[m.End].Is(WordClass.Article)))))
        {
            // What a decision avoids is not a problem someone has: "to reduce risk", "to prevent outages".
            return false;
        }

        if (entry.Phrase == "process" && c.IsWord(match.First - 2, "in") && c.IsWord(match.End, "of"))
        {
            // "in the process of preparing".
            return false;
        }

        if (entry.Role == TriggerRole.Noun && head.Has(TokenFlags.Capitalized) && !head.Has(TokenFlags.AllCaps) && match.First != c.FirstWord)
        {
            // Part of a name or title: "Global Risk Operations", "Manager, Risk Controls".
            return false;
        }

        if (entry.Frame is FrameType.Decision or FrameType.Ownership && entry.Role == TriggerRole.Active && (match.First == c.FirstWord || c.IsPunct(match.First - 1, ':') || c.IsPunct(match.First - 1, ';'))
            && !c.IsSubjectPronoun(match.First))
        {
            // An instruction, not a statement: "Run the smoke tests", "Go with option B".
            return false;
        }

        if (entry.Frame is FrameType.Decision or FrameType.Ownership && entry.Role == TriggerRole.Active && match.End - match.First == 1 && prevIsWord
            && (prev.Is(WordClass.Article) || (prev.Is(WordClass.Determiner) && !prev.Is(WordClass.Negation))))
        {
            // An adjective or noun use: "the approved budget", "the selected vendor", "our leads".
            return false;
        }

        if (entry.Frame == FrameType.Ownership && entry.Role == TriggerRole.Active && c.IsWord(match.End, "to"))
        {
            return false;
        }

        return entry.Frame != FrameType.Metric || entry.Role != TriggerRole.Noun || c.Quantities.Count > 0;
    }

    private static Frame? BuildFrame(SentenceContext c, TokenMatch match, Frame? ownership)
    {
        var entry = c.Entry(match);
        var type = entry.Frame!.Value;
        var (ts, te) = (match.First, match.End);
        var slots = new SlotSet();
        switch (type)
        {
            case FrameType.Decision:
                DecisionSlots(c, entry, ts, te, slots);
                slots.Set(FrameSlots.Rationale, Reason(c, ts, te, cause: false));
                slots.Set(FrameSlots.Time, Time(c, ts, te));
                break;

            case FrameType.Process:
                if (entry.Role == TriggerRole.Frequency && c.FrequencyAt(ts) is { } frequency && frequency.First <= ts && frequency.End >= te)
                {
                    // The whole expression: "every" in "every 90 days", "times" in "3 times a week".
                    (ts, te) = frequency;
                }

                if (!ProcessSlots(c, entry, ts, te, slots))
                {
                    return null;
                }

                slots.Set(FrameSlots.Owner, Borrowed(ownership, FrameSlots.Owner));
                slots.Set(FrameSlots.Steps, Steps(c));
                slots.Set(FrameSlots.Time, Time(c, ts, te));
                break;

            case FrameType.Ownership:
                if (!OwnershipSlots(c, entry, ts, te, slots))
                {
                    return null;
                }

                break;

            case FrameType.Event:
                slots.Set(FrameSlots.Object, entry.Role == TriggerRole.Noun ? c.Phrase(c.NounPhraseAround(ts, te)) : c.Phrase(c.SubjectLeft(ts)));
                slots.Set(FrameSlots.Time, Time(c, ts, te));
                if (entry.Role != TriggerRole.Noun && !slots.Has(FrameSlots.Time))
                {
                    // "happen on", "starts on", "is due" say little without a date.
                    return null;
                }

                slots.Set(FrameSlots.Place, Place(c));
                break;

            case FrameType.Constraint:
                ConstraintSlots(c, entry, ts, te, slots);
                slots.Set(FrameSlots.Time, Time(c, ts, te));
                break;

            case FrameType.Definition:
                if (!DefinitionSlots(c, entry, ts, te, slots))
                {
                    return null;
                }

                break;

            case FrameType.Metric:
                MetricSlots(c, entry, ts, te, slots);
                slots.Set(FrameSlots.Time, Time(c, ts, te));
                break;

            case FrameType.Problem:
                ProblemSlots(c, entry, ts, te, slots);
                slots.Set(FrameSlots.Cause, Reason(c, ts, te, cause: true));
                slots.Set(FrameSlots.Owner, Borrowed(ownership, FrameSlots.Owner));
                slots.Set(FrameSlots.Time, Time(c, ts, te));
                break;
        }

        if (slots.Ranges.TryGetValue(FrameSlots.Time, out var timeRange)
            && slots.Ranges.Any(p => p.Key != FrameSlots.Time && p.Value.Start <= timeRange.Start && p.Value.End >= timeRange.End))
        {
            // "The Q3 budget was approved": Q3 names the budget, it does not date the decision.
            slots.Values.Remove(FrameSlots.Time);
            slots.Ranges.Remove(FrameSlots.Time);
        }

        var required = FrameSlots.Required(type);
        var missing = required.Where(s => !slots.Has(s)).ToArray();
        var confidence = Math.Round(entry.Weight * (0.5 + (0.5 * (required.Count - missing.Length) / required.Count)), 2);
        return new Frame(type, c.Slice(ts, te), entry.Phrase, c.RangeOf(ts, te), Negated(c, ts, entry), confidence, slots.Values, slots.Ranges, missing);
    }

    private static (string, TextRange)? Phrase(this SentenceContext c, (int First, int End) span) => c.Phrase(span.First, span.End);

    private static (string, TextRange)? Borrowed(Frame? frame, string slot) =>
        frame is not null && frame.Slots.TryGetValue(slot, out var text) ? (text, frame.SlotRanges[slot]) : null;

    private static int Skip(SentenceContext c, int from, params string[] words)
    {
        while (from < c.Count && (c.IsPunct(from, ':') || (c.Tokens[from].IsWord && words.Contains(c.Lower(from)))))
        {
            from++;
        }

        return from;
    }

    private static void DecisionSlots(SentenceContext c, TriggerEntry entry, int ts, int te, SlotSet slots)
    {
        switch (entry.Role)
        {
            case TriggerRole.Active:
                var agent = c.IsSubjectPronoun(ts) ? (First: ts, End: ts + 1) : c.SubjectLeft(ts);
                if (!(agent.End - agent.First == 1 && c.IsWord(agent.First, "it") && IsExpletive(c, agent.First)))
                {
                    slots.Set(FrameSlots.Agent, c.Phrase(agent));
                }

                slots.Set(FrameSlots.Object, c.Phrase(c.ObjectRight(te)));
                break;

            case TriggerRole.Passive:
                var (first, end) = c.SubjectLeft(ts);
                var expletive = end <= first || (end - first == 1 && c.IsWord(first, "it")) || c.IsWord(ts, "it");
                slots.Set(FrameSlots.Object, expletive ? c.Phrase(c.ObjectRight(Skip(c, te, "that", "to"))) : c.Phrase(first, end));
                if (c.IsWord(te, "by"))
                {
                    slots.Set(FrameSlots.Agent, c.Phrase(c.FirstNounPhrase(te + 1, c.ClauseEnd(te + 1))));
                }

                break;

            default:
                slots.Set(FrameSlots.Object, c.Phrase(c.ObjectRight(Skip(c, te, "to", "that", "is", "was", "will", "be", "we", "should"))));
                if (ts > 0 && c.Tokens[ts - 1].IsWord && (c.Tokens[ts - 1].Has(TokenFlags.Possessive) || c.Lower(ts - 1) is "our" or "my" or "their" or "his" or "her"))
                {
                    slots.Set(FrameSlots.Agent, c.Phrase(ts - 1, ts));
                }
                else if (c.SubjectLeft(ts) is var left && c.IsPersonLike(left.First, left.End))
                {
                    slots.Set(FrameSlots.Agent, c.Phrase(left));
                }

                break;
        }
    }

    private static bool ProcessSlots(SentenceContext c, TriggerEntry entry, int ts, int te, SlotSet slots)
    {
        if (entry.Role == TriggerRole.Noun && entry.Phrase.EndsWith(" to", StringComparison.Ordinal))
        {
            // "how to rotate the keys", "steps to onboard a customer".
            slots.Set(FrameSlots.Object, c.Phrase(c.ObjectRight(te)));
            return true;
        }

        if (entry.Role == TriggerRole.Noun)
        {
            var np = c.NounPhraseAround(ts, te);
            slots.Set(FrameSlots.Object, c.Phrase(np));
            var doer = c.ClauseSubject(ts);
            if (doer.End <= np.First && c.IsPersonLike(doer.First, doer.End))
            {
                slots.Set(FrameSlots.Owner, c.Phrase(doer));
            }

            return true;
        }

        slots.Set(FrameSlots.Frequency, c.Phrase(ts, te));
        var clauseStart = c.ClauseStart(ts);
        if (te < c.Count && c.Tokens[te].IsWord && !c.Tokens[te].Is(WordClass.FunctionWord) && !c.Tokens[te].Has(TokenFlags.NegatedContraction) && !c.IsTime(te))
        {
            // Used as an adjective: "the weekly report is sent to finance", "our quarterly planning meeting".
            var k = te;
            while (k < c.Count && k - te < 4 && c.Tokens[k].IsWord && !c.Tokens[k].Is(WordClass.FunctionWord) && !c.Tokens[k].Has(TokenFlags.NegatedContraction))
            {
                k++;
            }

            slots.Set(FrameSlots.Object, c.Phrase(te, k));
            var doer = c.FirstNounPhrase(clauseStart, ts);
            if (doer.End > doer.First && c.IsPersonLike(doer.First, doer.End))
            {
                slots.Set(FrameSlots.Owner, c.Phrase(doer));
            }

            return true;
        }

        (int First, int End) subject;
        int restEnd;
        if (clauseStart == ts)
        {
            // "Every Monday, Maria reviews the queue."
            var after = Skip(c, te, ",");
            while (after < c.Count && c.IsPunct(after, ','))
            {
                after++;
            }

            restEnd = c.ClauseEnd(after);
            subject = c.FirstNounPhrase(after, restEnd);
        }
        else
        {
            restEnd = ts;
            subject = c.FirstNounPhrase(clauseStart, ts);
        }

        var generic = TriggerLexicon.IsGenericFrequency(entry.Phrase);
        if (subject.End <= subject.First)
        {
            return !generic;
        }

        if (c.IsPersonLike(subject.First, subject.End))
        {
            slots.Set(FrameSlots.Owner, c.Phrase(subject));
            var k = subject.End;
            while (k < restEnd && c.Tokens[k].IsWord && (c.Tokens[k].IsVerb || c.Tokens[k].Is(WordClass.Auxiliary) || c.Tokens[k].Is(WordClass.Adverb) || !c.IsNominal(k)) && !c.IsSubjectPronoun(k) && !c.Tokens[k].Is(WordClass.Article) && !c.Tokens[k].Is(WordClass.Determiner))
            {
                k++;
            }

            var obj = c.FirstNounPhrase(k, restEnd);
            slots.Set(FrameSlots.Object, obj.End > obj.First ? c.Phrase(obj) : null);
        }
        else if (generic && !IsProcessHead(c, subject.End - 1))
        {
            // "The price goes up every 2 years" is not a process; "the certificate renewal happens every 90 days" is.
            return false;
        }
        else
        {
            slots.Set(FrameSlots.Object, c.Phrase(subject));
        }

        for (var j = te; j + 1 < c.Count; j++)
        {
            if (c.IsWord(j, "by") && c.FirstNounPhrase(j + 1, c.ClauseEnd(j + 1)) is var by && by.End > by.First && c.IsPersonLike(by.First, by.End))
            {
                slots.Set(FrameSlots.Owner, c.Phrase(by));
                break;
            }
        }

        return true;
    }

    /// <summary>A head noun that names something done over and over: renewal, backup, review, a process or event trigger, a gerund ("patching").</summary>
    private static bool IsProcessHead(SentenceContext c, int k)
    {
        var t = c.Tokens[k];
        if (!t.IsWord || t.Is(WordClass.FunctionWord))
        {
            return false;
        }

        var lower = c.Lower(k);
        if (t.Is(WordClass.ProcessNoun) || WordLists.Is(Expressions.Singular(lower), WordClass.ProcessNoun))
        {
            return true;
        }

        if (c.Lexicon.Find(lower) is { Role: TriggerRole.Noun, Frame: FrameType.Process or FrameType.Event })
        {
            return true;
        }

        return lower.Length > 5 && lower.EndsWith("ing", StringComparison.Ordinal) && !t.Has(TokenFlags.Capitalized);
    }

    private static (string, TextRange)? Steps(SentenceContext c)
    {
        foreach (var match in c.Matches)
        {
            if (c.Entry(match).Role == TriggerRole.Step && c.Entry(match).Frame is null)
            {
                return c.Phrase(match.First, c.Count);
            }
        }

        for (var i = 0; i < c.Count - 3; i++)
        {
            // "The release steps are: build, test, deploy."
            if (c.IsPunct(i, ':') && c.Tokens.Skip(i).Count(t => t.Kind == TokenKind.Punct && c.Text[t.Start] == ',') >= 1)
            {
                return c.Phrase(i + 1, c.Count);
            }
        }

        return null;
    }

    private static bool OwnershipSlots(SentenceContext c, TriggerEntry entry, int ts, int te, SlotSet slots)
    {
        switch (entry.Role)
        {
            case TriggerRole.Active:
                var owner = c.SubjectLeft(ts);
                if (entry.Phrase is "run" or "ran" or "renew" or "booking" or "writes the" or "approve all" && !c.IsPersonLike(owner.First, owner.End))
                {
                    // "The cleanup runs twice a week": a thing that runs is no owner; "I run the backups" is one.
                    return false;
                }

                slots.Set(FrameSlots.Owner, c.Phrase(owner));
                slots.Set(FrameSlots.Object, c.Phrase(c.ObjectRight(te)));
                return true;

            case TriggerRole.Passive:
                slots.Set(FrameSlots.Object, c.Phrase(c.SubjectLeft(ts)));
                slots.Set(FrameSlots.Owner, c.Phrase(c.FirstNounPhrase(te, c.ClauseEnd(te))));
                return true;

            default:
                var k = ts;
                while (k > 0 && c.Tokens[k - 1].IsWord && (c.Tokens[k - 1].Is(WordClass.Article) || c.Tokens[k - 1].Is(WordClass.GenericAdjective)))
                {
                    k--;
                }

                var left = entry.Phrase == "owner of" ? c.SubjectLeft(k) : (First: 0, End: 0);
                if (left.End > left.First)
                {
                    // "Maria is the owner of billing."
                    slots.Set(FrameSlots.Owner, c.Phrase(left));
                    slots.Set(FrameSlots.Object, c.Phrase(c.ObjectRight(te)));
                    return true;
                }

                if (entry.Phrase == "the owner is")
                {
                    slots.Set(FrameSlots.Owner, c.Phrase(c.FirstNounPhrase(te, c.ClauseEnd(te))));
                    return true;
                }

                // "The owner of billing is Maria."
                var copula = te;
                while (copula < c.Count && !(c.Tokens[copula].IsWord && c.Tokens[copula].Is(WordClass.Copula)) && !c.IsHardBreak(copula))
                {
                    copula++;
                }

                slots.Set(FrameSlots.Object, c.Phrase(te, copula));
                if (copula < c.Count && c.Tokens[copula].Is(WordClass.Copula))
                {
                    slots.Set(FrameSlots.Owner, c.Phrase(c.FirstNounPhrase(copula + 1, c.ClauseEnd(copula + 1))));
                }

                return true;
        }
    }

    private static void ConstraintSlots(SentenceContext c, TriggerEntry entry, int ts, int te, SlotSet slots)
    {
        var subject = c.SubjectLeft(ts);
        if (entry.Role == TriggerRole.Limit || subject.End <= subject.First)
        {
            subject = c.ClauseSubject(ts);
        }

        if (subject.End > ts)
        {
            subject = (subject.First, ts);
        }

        slots.Set(FrameSlots.Object, c.Phrase(subject));
        var limit = c.ObjectRight(te, cutTimes: false);
        slots.Set(FrameSlots.Limit, entry.Role == TriggerRole.Limit ? c.Phrase(ts, Math.Max(te, limit.End)) : c.Phrase(limit));
    }

    private static bool DefinitionSlots(SentenceContext c, TriggerEntry entry, int ts, int te, SlotSet slots)
    {
        if (entry.Role == TriggerRole.TermFirst)
        {
            var term = c.SubjectLeft(ts);
            if (term.End <= term.First || term.End - term.First > 6 || (term.End - term.First == 1 && c.IsSubjectPronoun(term.First))
                || (c.Tokens[term.First].IsWord && c.Lower(term.First) is "that" or "which" or "who" or "what" or "this" or "it"))
            {
                return false;
            }

            var meaning = c.ObjectRight(te, cutTimes: false, maxTokens: 25);
            if (meaning.End <= meaning.First && entry.Phrase == "means")
            {
                return false;
            }

            slots.Set(FrameSlots.Term, c.Phrase(term));
            slots.Set(FrameSlots.Definition, c.Phrase(meaning));
            return true;
        }

        var from = te;
        while (from < c.Count && c.Tokens[from].Kind == TokenKind.Punct)
        {
            from++;
        }

        var named = c.FirstNounPhrase(from, c.ClauseEnd(from));
        slots.Set(FrameSlots.Term, c.Phrase(named));
        slots.Set(FrameSlots.Definition, c.Phrase(c.SubjectLeft(ts)));
        return true;
    }

    private static void MetricSlots(SentenceContext c, TriggerEntry entry, int ts, int te, SlotSet slots)
    {
        // "The plan costs $1,200": a metric noun used as a verb, with the value right after it.
        var usedAsVerb = entry.Role == TriggerRole.Noun && c.Quantities.Exists(q => q.First == te);
        slots.Set(FrameSlots.Metric, entry.Role == TriggerRole.Noun && !usedAsVerb ? c.Phrase(c.NounPhraseAround(ts, te, withPrepositions: true)) : c.Phrase(c.SubjectLeft(ts)));
        Quantity? value = null;
        foreach (var quantity in c.Quantities)
        {
            if (quantity.First >= te)
            {
                value = quantity;
                break;
            }

            value ??= quantity;
        }

        if (value is { } q)
        {
            slots.Set(FrameSlots.Value, c.Phrase(q.First, q.End));
            if (q.Unit is { } unit)
            {
                slots.Set(FrameSlots.Unit, (unit, c.RangeOf(q.First, q.End)));
            }
        }
    }

    private static void ProblemSlots(SentenceContext c, TriggerEntry entry, int ts, int te, SlotSet slots)
    {
        if (entry.Phrase == "root cause")
        {
            if (c.IsWord(te, "of"))
            {
                slots.Set(FrameSlots.Object, c.Phrase(c.FirstNounPhrase(te + 1, c.ClauseEnd(te + 1))));
            }

            for (var k = te; k < c.Count && !c.IsHardBreak(k); k++)
            {
                if (c.Tokens[k].IsWord && c.Tokens[k].Is(WordClass.Copula))
                {
                    slots.Set(FrameSlots.Cause, c.Phrase(c.ObjectRight(Skip(c, k + 1, "that"), cutTimes: false)));
                    break;
                }
            }

            return;
        }

        if (entry.Role == TriggerRole.Noun)
        {
            slots.Set(FrameSlots.Object, c.Phrase(c.NounPhraseAround(ts, te)));
        }
        else if (entry.Phrase == "unable to")
        {
            slots.Set(FrameSlots.Object, c.Phrase(c.ObjectRight(te)));
        }
        else
        {
            slots.Set(FrameSlots.Object, c.Phrase(c.SubjectLeft(ts)));
        }
    }

    /// <summary>
    /// The reason (or, for problems, the cause) after a cue: the first cue after the trigger, else the last before
    /// it ("Because costs rose, we decided ..."). A purpose ("to reduce costs") keeps its verb as the reason.
    /// </summary>
    private static (string, TextRange)? Reason(SentenceContext c, int ts, int te, bool cause)
    {
        TokenMatch? after = null;
        TokenMatch? before = null;
        foreach (var match in c.Matches)
        {
            var entry = c.Entry(match);
            if (entry.Frame is not null || !(entry.Role == TriggerRole.Rationale || (entry.Role == TriggerRole.Purpose && !cause) || (entry.Role == TriggerRole.Cause && cause)))
            {
                continue;
            }

            if (match.First < te && match.End > ts || (entry.Phrase == "since" && c.IsTime(match.End)))
            {
                continue;
            }

            if (match.First >= te)
            {
                if (after is null || match.First < after.Value.First)
                {
                    after = match;
                }
            }
            else if (match.End <= ts)
            {
                before = match;
            }
        }

        if ((after ?? before) is not { } chosen)
        {
            return null;
        }

        var from = c.Entry(chosen).Role == TriggerRole.Purpose ? chosen.First + 1 : Skip(c, chosen.End, "is", "was", "being", "that", "for", "this", "why");
        int to;
        if (after is not null)
        {
            to = from;
            while (to < c.Count && !c.IsPunct(to, ';') && !c.IsPunct(to, '('))
            {
                to++;
            }
        }
        else
        {
            to = from;
            var subject = c.SubjectLeft(ts).First;
            while (to < ts && !c.IsPunct(to, ',') && !c.IsPunct(to, ';') && (to < subject || subject == ts))
            {
                to++;
            }
        }

        return c.Phrase(from, to);
    }

    private static (string, TextRange)? Time(SentenceContext c, int ts, int te)
    {
        TimeExpression? before = null;
        foreach (var time in c.Times)
        {
            if (time.First < te && time.End > ts)
            {
                continue;
            }

            if (time.First >= te)
            {
                return c.Phrase(time.Lead >= te ? time.Lead : time.First, time.End);
            }

            before = time;
        }

        return before is { } t ? c.Phrase(t.Lead, t.End) : null;
    }

    private static (string, TextRange)? Place(SentenceContext c)
    {
        for (var i = 0; i + 1 < c.Count; i++)
        {
            if (!c.Tokens[i].IsWord)
            {
                continue;
            }

            var lower = c.Lower(i);
            if (lower is "in" or "at" or "on" or "via" or "over" && c.Tokens[i + 1].IsWord && c.Tokens[i + 1].Is(WordClass.MeetingPlatform))
            {
                var end = i + 2 < c.Count && c.Tokens[i + 2].IsWord && c.Tokens[i + 2].Is(WordClass.MeetingPlatform) ? i + 3 : i + 2;
                return c.Phrase(i + 1, end);
            }

            if (lower is "online" or "remotely")
            {
                return c.Phrase(i, i + 1);
            }

            if (lower is not ("in" or "at"))
            {
                continue;
            }

            var j = i + 1;
            if (c.IsWord(j, "the"))
            {
                j++;
            }

            // "in Houston", "at the Hilton", "in room 4B", "in the main conference room".
            var k = j;
            while (k < c.Count && k - j < 5 && c.Tokens[k].Kind is TokenKind.Word or TokenKind.Number && !c.IsTime(k) && !c.Tokens[k].Is(WordClass.FunctionWord))
            {
                if (c.Tokens[k].Is(WordClass.PlaceNoun))
                {
                    var end = k + 1 < c.Count && (c.Tokens[k + 1].Kind == TokenKind.Number || c.Tokens[k + 1].Has(TokenFlags.HasDigit)) ? k + 2 : k + 1;
                    return c.Phrase(j, end);
                }

                k++;
            }

            if (j < c.Count && c.Tokens[j].IsWord && c.Tokens[j].Has(TokenFlags.Capitalized) && !c.IsTime(j) && !c.Tokens[j].Is(WordClass.Month) && !c.Tokens[j].Is(WordClass.Weekday))
            {
                var end = j + 1;
                while (end < c.Count && c.Tokens[end].IsWord && c.Tokens[end].Has(TokenFlags.Capitalized) && end - j < 4)
                {
                    end++;
                }

                return c.Phrase(j, end);
            }
        }

        return null;
    }

    private static bool Negated(SentenceContext c, int ts, TriggerEntry entry)
    {
        if (entry.Negates)
        {
            return true;
        }

        for (var j = ts - 1; j >= 0 && j >= ts - 5; j--)
        {
            if (c.IsClauseBreak(j) || c.IsWord(j, "but"))
            {
                break;
            }

            var t = c.Tokens[j];
            if (t.IsWord && t.IsVerb && !t.Is(WordClass.Auxiliary) && !t.Is(WordClass.Copula) && !t.Is(WordClass.Negation))
            {
                // The cue belongs to that verb: "did not decide to cancel the offsite" does not negate the offsite.
                break;
            }

            if (!t.IsWord || !(t.Is(WordClass.Negation) || t.Has(TokenFlags.NegatedContraction)))
            {
                continue;
            }

            // "no" and "without" negate only what they stand right before ("no decision", "without approval");
            // "no longer" negates the verb after it.
            return c.Lower(j) switch
            {
                "no" => j == ts - 1 || c.IsWord(j + 1, "longer"),
                "without" or "nothing" or "nobody" or "none" or "hardly" => ts - j <= 2,
                _ => true
            };
        }

        return false;
    }

    private static bool FindQuestion(SentenceContext c, List<Frame> frames)
    {
        if (c.FirstWord < 0)
        {
            return false;
        }

        var last = c.Count - 1;
        while (last >= 0 && c.Tokens[last].Kind == TokenKind.Punct && c.Text[c.Tokens[last].Start] is ')' or '"' or '\'' or '’' or '”' or ']')
        {
            last--;
        }

        var marked = last >= 0 && c.IsPunct(last, '?');
        var k = c.FirstWord;
        while (k < c.Count - 1 && k - c.FirstWord < 3 && (c.IsPunct(k, ',') || (c.Tokens[k].IsWord && c.Tokens[k].Is(WordClass.Discourse) && !c.Tokens[k].Is(WordClass.QuestionAux))))
        {
            k++;
        }

        var t = c.Tokens[k];
        var wh = t.IsWord && t.Is(WordClass.QuestionWord);
        var aux = t.IsWord && t.Is(WordClass.QuestionAux);
        var opens = !c.Tokens.Take(k).Any(x => x.Kind is TokenKind.Url or TokenKind.Number or TokenKind.Email);
        var lexical = false;
        if (!marked && opens && (wh || aux) && c.Count - k >= 3 && !(last >= 0 && (c.IsPunct(last, '.') || c.IsPunct(last, '!'))))
        {
            // Chat questions often lack the "?": "can someone review this", "when is the launch".
            var next = c.Tokens[k + 1];
            lexical = wh
                ? next.IsWord && (next.Is(WordClass.Auxiliary) || next.IsVerb || next.Is(WordClass.Copula)) && !c.IsWord(k + 1, "to")
                : next.IsWord && ((next.Is(WordClass.SubjectPronoun) && !next.Is(WordClass.Determiner)) || c.Lower(k + 1) is "anyone" or "someone" or "anybody" or "somebody" or "everyone" or "this" or "that"
                    || (next.Has(TokenFlags.Capitalized) && !t.Has(TokenFlags.Capitalized)))
                  && !c.IsWord(k + 1, "not");
        }

        if (!marked && !lexical)
        {
            return false;
        }

        var asks = wh ? c.Lower(k).Replace("'s", "", StringComparison.Ordinal) : "yes/no";
        var from = wh || aux ? k + 1 : c.FirstWord;
        while (wh && from < c.Count && c.Tokens[from].IsWord && (c.Tokens[from].Is(WordClass.Auxiliary) || c.Tokens[from].Is(WordClass.Copula)))
        {
            from++;
        }

        var to = marked ? last : c.Count;
        var slots = new SlotSet();
        slots.Set(FrameSlots.Topic, c.Phrase(from, to));
        slots.Set(FrameSlots.Asks, (asks, c.RangeOf(wh || aux ? k : last, (wh || aux ? k : last) + 1)));
        var trigger = wh || aux ? k : last;
        frames.Add(new Frame(FrameType.Question, c.Slice(trigger, trigger + 1), wh || aux ? c.Lower(k) : "?", c.RangeOf(trigger, trigger + 1), false,
            marked ? 0.9 : 0.6, slots.Values, slots.Ranges, slots.Has(FrameSlots.Topic) ? [] : [FrameSlots.Topic]));
        return true;
    }

    /// <summary>"The reason is ...", "This is because ...", "That's due to ...", "The root cause was ...", "Reason: ...".</summary>
    private static TextRange? ExplainsPrevious(SentenceContext c, List<Frame> frames)
    {
        if (c.FirstWord < 0)
        {
            return null;
        }

        var p = c.FirstWord;
        while (p < c.Count - 1 && c.Tokens[p].IsWord && (c.Tokens[p].Is(WordClass.Conjunction) || c.Lower(p) is "also" or "so" or "well" or "and"))
        {
            p++;
        }

        if ((c.IsWord(p, "this") || c.IsWord(p, "that") || c.IsWord(p, "it")) && p + 1 < c.Count && c.Tokens[p + 1].Is(WordClass.Copula))
        {
            p += 2;
        }
        else if (c.Tokens[p].IsWord && c.Lower(p) is "that's" or "it's" or "this's")
        {
            p++;
        }

        while (p < c.Count && c.Tokens[p].IsWord && c.Tokens[p].Is(WordClass.Adverb) && !c.Tokens[p].Is(WordClass.Subordinator))
        {
            p++;
        }

        int from = -1;
        foreach (var match in c.Matches)
        {
            var entry = c.Entry(match);
            if (match.First == p && entry.Frame is null && entry.Role is TriggerRole.Rationale or TriggerRole.Cause)
            {
                from = entry.Phrase is "the reason" or "the rationale" or "the cause" or "the culprit"
                    ? SkipToCopula(c, match.End)
                    : Skip(c, match.End, "that");
                break;
            }

            if (match.First <= p + 1 && match.First >= p && entry.Phrase == "root cause")
            {
                from = SkipToCopula(c, match.End);
                break;
            }
        }

        if (from < 0 && p + 1 < c.Count && c.Lower(p) is "reason" or "rationale" or "why" or "because" && c.IsPunct(p + 1, ':'))
        {
            from = p + 2;
        }

        if (from < 0 || from >= c.Count)
        {
            return null;
        }

        // A decision made in this sentence is not explained by it; one inside the reason is ("This was because both
        // agreed to move ..." still explains the sentence before).
        var cueStart = c.Tokens[p].Start;
        if (frames.Exists(f => f.Type == FrameType.Decision && f.TriggerRange.Start < cueStart))
        {
            return null;
        }

        return c.Phrase(from, c.Count) is { } phrase ? phrase.Range : null;
    }

    private static int SkipToCopula(SentenceContext c, int from)
    {
        for (var k = from; k < c.Count && k - from < 8 && !c.IsHardBreak(k); k++)
        {
            if (c.Tokens[k].IsWord && c.Tokens[k].Is(WordClass.Copula))
            {
                return Skip(c, k + 1, "that");
            }
        }

        return Skip(c, from, "that");
    }
}
