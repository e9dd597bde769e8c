using System.Collections.Frozen;

namespace SecondBrain.Core.Knowledge.Extraction;

public static partial class SentenceAnalyzer
{
    private static readonly FrozenSet<string> Approximators = FrozenSet.Create(StringComparer.Ordinal,
        "about", "around", "approximately", "roughly", "nearly", "almost", "over", "under", "above", "below", "at", "only",
        "just", "exactly", "currently", "now", "still", "already", "up", "down", "to", "by", "less", "more", "than");

    private static readonly FrozenSet<string> GenericSubjects = FrozenSet.Create(StringComparer.Ordinal,
        "reason", "rationale", "goal", "idea", "thing", "point", "question", "answer", "problem", "issue", "cause", "result",
        "difference", "fact", "truth", "hope", "concern", "purpose", "aim", "objective", "decision", "way", "one", "part");

    private static readonly FrozenSet<string> Particles = FrozenSet.Create(StringComparer.Ordinal,
        "on", "with", "for", "in");

    /// <summary>
    /// Claims a contradiction check can compare: "X is/was/will be V" (copulas), "X is scheduled for DATE"
    /// (predicate "date"), "X [does not] support/use/offer/cost/take ... V" (claim verbs), "X increased by V"
    /// (metric phrases) and "Y owns X" (predicate "owner"). Heuristic and deterministic; subjects and values are keyed
    /// by <see cref="KnowledgeKeys.Phrase"/> so two phrasings of one fact meet.
    /// </summary>
    private static List<Claim> FindClaims(SentenceContext c, List<Frame> frames)
    {
        var claims = new List<Claim>();
        var busy = new bool[c.Count + 1];
        foreach (var match in c.Matches)
        {
            if (c.Entry(match).Frame is FrameType.Definition or FrameType.Ownership or FrameType.Decision)
            {
                for (var k = match.First; k < match.End; k++)
                {
                    busy[k] = true;
                }
            }
        }

        for (var i = 0; i < c.Count; i++)
        {
            var t = c.Tokens[i];
            if (!t.IsWord || busy[i])
            {
                continue;
            }

            if (t.Is(WordClass.Copula) && !(c.Lower(i) is "stands" or "sits" && !c.IsWord(i + 1, "at")))
            {
                CopulaClaim(c, i, claims, busy);
            }
            else if (t.Verb >= 0 && t.Verb < WordLists.ClaimVerbs.Length)
            {
                VerbClaim(c, i, claims);
            }
        }

        foreach (var match in c.Matches)
        {
            var entry = c.Entry(match);
            if (entry.Frame == FrameType.Metric && entry.Role == TriggerRole.Passive && FirstQuantityFrom(c, match.End, 3) is { } q)
            {
                var subject = c.SubjectLeft(match.First);
                AddClaim(c, claims, subject, c.Slice(match.First, match.End), entry.Phrase, q.First, q.End, q.Kind, q.Normalized, !Negated(c, match.First, entry));
            }
        }

        foreach (var frame in frames)
        {
            if (frame.Type == FrameType.Ownership && frame.Slots.TryGetValue(FrameSlots.Object, out var obj) && frame.Slots.TryGetValue(FrameSlots.Owner, out var owner))
            {
                var subjectKey = KnowledgeKeys.Phrase(obj);
                var range = Union(frame.SlotRanges[FrameSlots.Object], frame.SlotRanges[FrameSlots.Owner]);
                Add(claims, new Claim(obj, subjectKey, KnowledgeKeys.Head(subjectKey), frame.Trigger, "owner", owner, KnowledgeKeys.Entity(owner),
                    ClaimValueKind.Text, !frame.Negated, range));
            }
        }

        return claims;
    }

    private static void CopulaClaim(SentenceContext c, int i, List<Claim> claims, bool[] busy)
    {
        var subject = c.SubjectLeft(i);
        if (subject.End <= subject.First || !UsableSubject(c, subject))
        {
            return;
        }

        var polarity = !Negative(c, subject.End, i + 1);
        var j = i + 1;
        while (j < c.Count && c.Tokens[j].IsWord && (c.Tokens[j].Is(WordClass.Negation) || c.Tokens[j].Is(WordClass.Adverb) || c.Lower(j) is "be" or "been"))
        {
            polarity &= !c.Tokens[j].Is(WordClass.Negation);
            j++;
        }

        if (j >= c.Count || busy[j])
        {
            // "X is responsible for Y", "X is defined as Y": the frame's own claim says it better.
            return;
        }

        var predicate = c.Slice(i, i + 1);
        foreach (var match in c.Matches)
        {
            var entry = c.Entry(match);
            if (match.First == j && entry.Frame == FrameType.Event && entry.Role == TriggerRole.Passive)
            {
                // "The launch is scheduled for March 3": a date claim about the launch.
                foreach (var time in c.Times)
                {
                    if (time.First >= match.End && time.First <= match.End + 1)
                    {
                        AddClaim(c, claims, subject, c.Slice(i, match.End), "date", time.First, time.End, ClaimValueKind.Date, time.Normalized, polarity);
                        return;
                    }
                }

                return;
            }
        }

        if (FirstQuantityFrom(c, j, 2) is { } q && OnlyApproximators(c, j, q.First))
        {
            AddClaim(c, claims, subject, predicate, "be", q.First, q.End, q.Kind, q.Normalized, polarity);
            return;
        }

        foreach (var time in c.Times)
        {
            if (time.Lead == j || time.First == j)
            {
                AddClaim(c, claims, subject, predicate, "date", time.First, time.End, ClaimValueKind.Date, time.Normalized, polarity);
                return;
            }
        }

        var end = c.ClauseEnd(j);
        for (var k = j; k < end; k++)
        {
            if (c.Tokens[k].Kind is TokenKind.Url or TokenKind.Handle or TokenKind.Email || c.IsPunct(k, '<') || c.IsPunct(k, '"'))
            {
                end = k;
                break;
            }
        }

        if (end - j is < 1 or > 6)
        {
            return;
        }

        var head = c.Tokens[j];
        if (!head.IsWord && head.Kind != TokenKind.Number || c.IsWord(j, "to") || head.Is(WordClass.Preposition) || head.Is(WordClass.Subordinator) || head.IsVerb && !head.Is(WordClass.Article)
            || EndsWith(c, j, "ing") || EndsWith(c, j, "ed") || head.Is(WordClass.SubjectPronoun) && !head.Is(WordClass.Determiner))
        {
            return;
        }

        for (var k = j; k < end; k++)
        {
            if (c.Tokens[k].IsVerb && !(k > j && c.IsNominal(k)))
            {
                return;
            }
        }

        var value = c.Phrase(j, end);
        if (value is null)
        {
            return;
        }

        AddClaim(c, claims, subject, predicate, "be", j, end, ClaimValueKind.Text, KnowledgeKeys.Phrase(value.Value.Text), polarity);
    }

    private static void VerbClaim(SentenceContext c, int i, List<Claim> claims)
    {
        var t = c.Tokens[i];
        var verb = WordLists.ClaimVerbs[t.Verb] switch { "has" or "had" => "have", "took" => "take", var v => v };
        if (i > 0 && (c.IsWord(i - 1, "to") || c.Tokens[i - 1].Is(WordClass.Article) || (c.Tokens[i - 1].Is(WordClass.Determiner) && !c.Tokens[i - 1].Is(WordClass.Negation))
            || c.Tokens[i - 1].Has(TokenFlags.Possessive)))
        {
            // An infinitive ("decided to use") or a noun ("the cost", "our support").
            return;
        }

        if (verb == "take" && (c.IsWord(i + 1, "place") || c.IsWord(i + 1, "care") || c.IsWord(i + 1, "ownership") || c.IsWord(i + 1, "over")))
        {
            return;
        }

        if (verb == "have" && !(i + 1 < c.Count && (c.Tokens[i + 1].Kind == TokenKind.Number || c.Tokens[i + 1].Is(WordClass.Article) || c.Tokens[i + 1].Is(WordClass.NumberWord)
            || (c.Tokens[i + 1].Is(WordClass.Determiner) && !c.Tokens[i + 1].Is(WordClass.Negation)))))
        {
            // Only possession with an object ("we have 5 engineers"), not the auxiliary ("we have laid out").
            return;
        }

        if (i > 0 && c.Tokens[i - 1].IsWord && c.Lower(i - 1) is "be" or "been" or "being" or "is" or "are" or "was" or "were")
        {
            // Passive: the grammatical subject is the object.
            return;
        }

        var subject = c.SubjectLeft(i);
        if (subject.End <= subject.First || !UsableSubject(c, subject, allowPeople: true))
        {
            return;
        }

        var polarity = !Negative(c, subject.End, i);
        var j = i + 1;
        var predicate = verb;
        if (j < c.Count && c.Tokens[j].IsWord && Particles.Contains(c.Lower(j)) && verb is "depend" or "integrate" or "comply" or "run" or "pay" or "charge")
        {
            predicate = $"{verb} {c.Lower(j)}";
            j++;
        }

        if (FirstQuantityFrom(c, j, 2) is { } q && OnlyApproximators(c, j, q.First))
        {
            AddClaim(c, claims, subject, c.Slice(i, j), predicate, q.First, q.End, q.Kind, q.Normalized, polarity);
            return;
        }

        var obj = c.ObjectRight(j, cutTimes: true, maxTokens: 6);
        for (var k = obj.First; k < obj.End; k++)
        {
            if (c.Tokens[k].IsWord && (c.Tokens[k].Is(WordClass.Auxiliary) || c.Tokens[k].Is(WordClass.Subordinator) && !c.Tokens[k].Is(WordClass.Preposition)))
            {
                obj = (obj.First, k);
                break;
            }
        }

        if (obj.End <= obj.First || c.Phrase(obj) is not { } value || c.IsTime(obj.First) || c.Matches.Exists(m => m.First == obj.First && c.IsFrequency(m)))
        {
            return;
        }

        var key = KnowledgeKeys.Phrase(value.Item1);
        AddClaim(c, claims, subject, c.Slice(i, j), predicate, obj.First, obj.End, ClaimValueKind.Text, KnowledgeKeys.Head(key), polarity);
    }

    private static bool UsableSubject(SentenceContext c, (int First, int End) subject, bool allowPeople = false)
    {
        if (c.Tokens[subject.End - 1].IsWord && (GenericSubjects.Contains(c.Lower(subject.End - 1)) || c.Lower(subject.End - 1) is "there" or "here"))
        {
            // "The reason is ...", "The problem is ...": an explanation, not a checkable fact.
            return false;
        }

        if (subject.First > 0 && c.Tokens[subject.First - 1].IsWord
            && (c.Tokens[subject.First - 1].Is(WordClass.Preposition) || c.Lower(subject.First - 1) is "if" or "unless" or "whether" or "when" or "whenever"))
        {
            // Inside a prepositional phrase ("in the trading support group") or a condition ("if you need"): not a subject that asserts.
            return false;
        }

        if (subject.End - subject.First != 1 || !c.Tokens[subject.First].IsWord)
        {
            return true;
        }

        return c.Lower(subject.First) switch
        {
            "there" or "here" or "this" or "that" or "which" or "what" or "who" => false,
            "we" or "they" => allowPeople,
            "i" or "you" or "he" or "she" => false,
            _ => true
        };
    }

    /// <summary>A negation between the subject and the verb: "does not", "doesn't", "never", "no longer".</summary>
    private static bool Negative(SentenceContext c, int from, int to)
    {
        for (var k = from; k < to; k++)
        {
            if (c.Tokens[k].IsWord && (c.Tokens[k].Is(WordClass.Negation) || c.Tokens[k].Has(TokenFlags.NegatedContraction)))
            {
                return true;
            }
        }

        return false;
    }

    private static Quantity? FirstQuantityFrom(SentenceContext c, int from, int within)
    {
        foreach (var quantity in c.Quantities)
        {
            if (quantity.First >= from && quantity.First <= from + within)
            {
                return quantity;
            }
        }

        return null;
    }

    private static bool OnlyApproximators(SentenceContext c, int from, int to)
    {
        for (var k = from; k < to; k++)
        {
            if (!c.Tokens[k].IsWord || !Approximators.Contains(c.Lower(k)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool EndsWith(SentenceContext c, int k, string suffix) =>
        k < c.Count && c.Tokens[k].IsWord && c.Tokens[k].Length > suffix.Length + 2 && c.Text.AsSpan(c.Tokens[k].Start, c.Tokens[k].Length).EndsWith(suffix, StringComparison.OrdinalIgnoreCase);

    private static void AddClaim(SentenceContext c, List<Claim> claims, (int First, int End) subject, string predicate, string predicateKey,
        int valueFirst, int valueEnd, ClaimValueKind kind, string normalized, bool polarity)
    {
        if (c.Phrase(subject) is not { } s || c.Phrase(valueFirst, valueEnd) is not { } v)
        {
            return;
        }

        var subjectKey = KnowledgeKeys.Phrase(s.Item1);
        if (kind == ClaimValueKind.Date)
        {
            // "The launch date is ..." and "The launch is scheduled for ..." are the same claim.
            var words = subjectKey.Split(' ');
            if (words.Length > 1 && WordLists.Is(words[^1], WordClass.DateWord))
            {
                subjectKey = string.Join(' ', words[..^1]);
            }

            predicateKey = "date";
        }

        if (subjectKey.Length == 0)
        {
            return;
        }

        Add(claims, new Claim(s.Item1, subjectKey, KnowledgeKeys.Head(subjectKey), predicate, predicateKey, v.Item1, normalized, kind, polarity,
            Union(s.Item2, v.Item2)));
    }

    private static void Add(List<Claim> claims, Claim claim)
    {
        if (!claims.Exists(o => o.SubjectKey == claim.SubjectKey && o.PredicateKey == claim.PredicateKey && o.NormalizedValue == claim.NormalizedValue))
        {
            claims.Add(claim);
        }
    }

    private static TextRange Union(TextRange a, TextRange b) => new(Math.Min(a.Start, b.Start), Math.Max(a.End, b.End));
}
