namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>
/// The working state of one <see cref="SentenceAnalyzer.Analyze(string)"/> call: the sentence's tokens, lexicon
/// matches, time expressions and quantities, plus the phrase heuristics the frame, entity and claim passes share.
/// Created per call and dropped with it.
/// </summary>
internal sealed class SentenceContext
{
    private readonly bool[] _cueStart;
    private readonly bool[] _timeToken;

    public SentenceContext(string text, TriggerLexicon lexicon)
    {
        Text = text;
        Lexicon = lexicon;
        Tokenizer.Tokenize(text, lexicon, Tokens);
        lexicon.Scan(Tokens, Matches);
        Expressions.FindTimes(text, Tokens, Times);
        Expressions.FindQuantities(text, Tokens, Times, Quantities);
        Expressions.FindFrequencies(text, Tokens, Frequencies);
        FirstWord = Tokens.FindIndex(t => t.Kind is TokenKind.Word or TokenKind.Number);
        _timeToken = new bool[Tokens.Count + 1];
        foreach (var time in Times)
        {
            for (var i = time.First; i < time.End; i++)
            {
                _timeToken[i] = true;
            }
        }

        _cueStart = new bool[Tokens.Count + 1];
        foreach (var match in Matches)
        {
            if (Entry(match).Frame is null && Entry(match).Role is TriggerRole.Rationale or TriggerRole.Purpose or TriggerRole.Cause)
            {
                _cueStart[match.First] = true;
            }
        }
    }

    public string Text { get; }

    public TriggerLexicon Lexicon { get; }

    public List<Token> Tokens { get; } = new(32);

    public List<TokenMatch> Matches { get; } = [];

    public List<TimeExpression> Times { get; } = [];

    public List<Quantity> Quantities { get; } = [];

    /// <summary>Frequency expressions ("every 90 days", "twice a week"), token spans.</summary>
    public List<(int First, int End)> Frequencies { get; } = [];

    /// <summary>The frequency expression that contains token <paramref name="i"/>, if any.</summary>
    public (int First, int End)? FrequencyAt(int i)
    {
        foreach (var f in Frequencies)
        {
            if (f.First <= i && i < f.End)
            {
                return f;
            }
        }

        return null;
    }

    /// <summary>
    /// A frequency trigger that really is one: the generic words "every", "each" and "times" only inside a
    /// frequency expression ("every 90 days", not "every customer").
    /// </summary>
    public bool IsFrequency(TokenMatch match) =>
        Entry(match).Role == TriggerRole.Frequency && (!TriggerLexicon.IsGenericFrequency(Entry(match).Phrase) || FrequencyAt(match.First) is not null);

    public List<EntityMention> Mentions { get; } = [];

    /// <summary>Token spans of the mentions, for "is this noun phrase a person?" checks.</summary>
    public List<(int First, int End, EntityType Type)> MentionSpans { get; } = [];

    public int FirstWord { get; }

    public int Count => Tokens.Count;

    public TriggerEntry Entry(TokenMatch match) => Lexicon.Entries[match.Entry];

    public string Slice(int first, int end) => Text[Tokens[first].Start..Tokens[end - 1].End];

    public TextRange RangeOf(int first, int end) => new(Tokens[first].Start, Tokens[end - 1].End);

    public string Lower(int i) => Expressions.Lower(Text, Tokens[i]);

    public bool IsWord(int i, string lower) => i >= 0 && i < Tokens.Count && Expressions.IsWord(Text, Tokens[i], lower);

    public bool IsPunct(int i, char c) => i >= 0 && i < Tokens.Count && Tokens[i].Kind == TokenKind.Punct && Text[Tokens[i].Start] == c;

    public bool IsCueStart(int i) => _cueStart[i];

    public bool IsTime(int i) => i >= 0 && i < Tokens.Count && _timeToken[i];

    public bool IsClauseBreak(int i) =>
        Tokens[i].Kind == TokenKind.Punct && Text[Tokens[i].Start] is ',' or ';' or ':' or '(' or ')' or '[' or ']' or '"' or '“' or '”' or '—' or '–' or '.' or '!' or '?';

    public bool IsHardBreak(int i) =>
        Tokens[i].Kind == TokenKind.Punct && Text[Tokens[i].Start] is ';' or ':' or '(' or ')' or '[' or ']' or '—' or '.' or '!' or '?' && !IsAbbreviationDot(i);

    /// <summary>The dot of "Dr." or of an initial ("John F. Kennedy") inside a sentence.</summary>
    private bool IsAbbreviationDot(int i) =>
        Text[Tokens[i].Start] == '.' && i > 0 && i + 1 < Tokens.Count && Tokens[i - 1].IsWord
        && (Tokens[i - 1].Is(WordClass.Honorific) || (Tokens[i - 1].Length == 1 && char.IsUpper(Text[Tokens[i - 1].Start])));

    public bool IsSubjectPronoun(int i) =>
        Tokens[i].IsWord && (Tokens[i].Is(WordClass.SubjectPronoun) || Lower(i) is "this" or "that" or "these" or "those" or "i'm" or "i'll" or "i've" or "we'll" or "we're" or "we've");

    /// <summary>Could this token be part of a noun phrase? Verbs only after a determiner ("the launch") or capitalised mid-sentence.</summary>
    public bool IsNominal(int j)
    {
        var t = Tokens[j];
        if (t.Kind is TokenKind.Number or TokenKind.Handle or TokenKind.Email)
        {
            return true;
        }

        if (!t.IsWord)
        {
            return false;
        }

        if (t.Has(TokenFlags.AllCaps))
        {
            return !t.Is(WordClass.Negation);
        }

        if (t.Is(WordClass.FunctionWord) || t.Is(WordClass.QuestionWord) || t.Has(TokenFlags.NegatedContraction))
        {
            return false;
        }

        if (t.IsVerb)
        {
            if (t.Has(TokenFlags.Capitalized) && j != FirstWord)
            {
                return true;
            }

            if (j > 0 && Tokens[j - 1].IsWord && (Tokens[j - 1].Is(WordClass.Article) || (Tokens[j - 1].Is(WordClass.Determiner) && !Tokens[j - 1].Is(WordClass.Negation))
                || Tokens[j - 1].Has(TokenFlags.Possessive) || Tokens[j - 1].Is(WordClass.GenericAdjective)))
            {
                return true;
            }

            // The head of a compound with a determiner two back: "the code review".
            return j > 1 && Tokens[j - 2].IsWord && Tokens[j - 2].Is(WordClass.Article) && Tokens[j - 1].IsWord && !Tokens[j - 1].IsVerb && !Tokens[j - 1].Is(WordClass.FunctionWord);
        }

        return true;
    }

    private int? MentionEndingAt(int end)
    {
        foreach (var (first, mentionEnd, _) in MentionSpans)
        {
            if (mentionEnd == end)
            {
                return first;
            }
        }

        return null;
    }

    private int? MentionStartingAt(int first)
    {
        foreach (var (mentionFirst, end, _) in MentionSpans)
        {
            if (mentionFirst == first)
            {
                return end;
            }
        }

        return null;
    }

    /// <summary>A word that can precede a noun head: a determiner, or a content word that is not a verb or pronoun.</summary>
    public bool IsModifier(int j) =>
        IsDeterminer(j) || (Tokens[j].IsWord && !Tokens[j].IsVerb && !Tokens[j].Is(WordClass.FunctionWord) && !Tokens[j].Is(WordClass.SubjectPronoun) && !Tokens[j].Has(TokenFlags.NegatedContraction));

    private bool IsDeterminer(int j) =>
        Tokens[j].IsWord && (Tokens[j].Is(WordClass.Article) || Tokens[j].Is(WordClass.Determiner)) && !Tokens[j].Is(WordClass.Negation);

    private bool IsStrippable(int j)
    {
        var t = Tokens[j];
        if (!t.IsWord)
        {
            return false;
        }

        if (t.Is(WordClass.Auxiliary) || t.Is(WordClass.Copula) || t.Is(WordClass.Adverb) || t.Is(WordClass.Negation) || t.Has(TokenFlags.NegatedContraction))
        {
            return !t.Is(WordClass.SubjectPronoun) && !t.Has(TokenFlags.AllCaps);
        }

        return t.Length > 5 && !t.Has(TokenFlags.Capitalized) && Text.AsSpan(t.Start, t.Length).EndsWith("ly", StringComparison.OrdinalIgnoreCase) && t.TriggerWord < 0;
    }

    private bool IsNameLike(int j) =>
        Tokens[j].IsWord && (Tokens[j].Has(TokenFlags.Capitalized) || Tokens[j].Is(WordClass.SubjectPronoun) || Tokens[j].Is(WordClass.ObjectPronoun));

    /// <summary>
    /// The noun phrase ending just before token <paramref name="before"/> (the agent of "X decided", the object of
    /// "X was approved"), with auxiliaries, adverbs and negation in between skipped. After "and"/"but" it is the
    /// subject of the coordinated clause ("we tested it and decided" gives "we").
    /// </summary>
    public (int First, int End) SubjectLeft(int before)
    {
        var end = before;
        while (end > 0 && IsStrippable(end - 1))
        {
            end--;
        }

        if (end > 0 && IsPunct(end - 1, ','))
        {
            end--;
        }

        if (end > 0 && IsPunct(end - 1, ')'))
        {
            // Step over a parenthesis: "the SLA (service level agreement) is ...".
            var open = end - 2;
            while (open >= 0 && !IsPunct(open, '(') && end - open < 16)
            {
                open--;
            }

            if (open > 0 && IsPunct(open, '('))
            {
                end = open;
            }
        }

        if (end == 0)
        {
            return (0, 0);
        }

        if (Tokens[end - 1].IsWord && Lower(end - 1) is "and" or "but" or "then" or "&")
        {
            return ClauseSubject(end - 1);
        }

        var first = end;
        for (var j = end - 1; j >= 0; j--)
        {
            if (first == end && IsSubjectPronoun(j))
            {
                first = j;
                break;
            }

            if (first == j + 1 && MentionEndingAt(j + 1) is { } mentionStart && mentionStart < j)
            {
                // A multi-token name is one unit: "Dr. Sarah Chen decided".
                first = j = mentionStart;
                continue;
            }

            if (IsNominal(j) || (j == end - 1 && Tokens[j].IsVerb && j > 0 && IsModifier(j - 1)))
            {
                // The last word before an auxiliary or trigger heads the phrase even if it can be a verb: "the planning meeting will".
                first = j;
                continue;
            }

            if (first < end && j > 0 && (IsWord(j, "of") || IsWord(j, "for") || IsPunct(j, '&')) && IsNominal(j - 1))
            {
                first = j;
                continue;
            }

            if (first < end && IsDeterminer(j))
            {
                first = j;
                break;
            }

            if (first < end && IsWord(j, "and") && j > 0 && IsNameLike(j - 1) && IsNameLike(first))
            {
                first = j;
                continue;
            }

            break;
        }

        if (end - first > 8)
        {
            first = end - 8;
            while (first < end && !IsNominal(first))
            {
                first++;
            }
        }

        return (first, end);
    }

    /// <summary>The first noun phrase of the clause that contains token <paramref name="at"/>.</summary>
    public (int First, int End) ClauseSubject(int at) => FirstNounPhrase(ClauseStart(at), at);

    public int ClauseStart(int at)
    {
        var j = at;
        while (j > 0 && !IsClauseBreak(j - 1) && !(Tokens[j - 1].IsWord && Lower(j - 1) is "because" or "although" or "though" or "while" or "if" or "unless" or "whereas" or "since" or "when"))
        {
            j--;
        }

        return j;
    }

    public int ClauseEnd(int from)
    {
        var j = from;
        while (j < Tokens.Count && !IsHardBreak(j) && !IsPunct(j, ',') && !(j > from && IsCueStart(j))
            && !(Tokens[j].IsWord && Lower(j) is "because" or "although" or "though" or "while" or "unless" or "whereas")
            && !(j > from && IsNewClause(j)))
        {
            j++;
        }

        return j;
    }

    /// <summary>"and"/"but"/"or" starting a new clause: followed by a pronoun, an auxiliary or a verb ("... and need to work with you").</summary>
    private bool IsNewClause(int j)
    {
        if (!Tokens[j].IsWord || Lower(j) is not ("and" or "but" or "or") || j + 1 >= Tokens.Count || !Tokens[j + 1].IsWord)
        {
            return false;
        }

        var next = Tokens[j + 1];
        return (next.Is(WordClass.SubjectPronoun) && !next.Is(WordClass.Determiner)) || next.Is(WordClass.Auxiliary) || (next.IsVerb && !next.Has(TokenFlags.Capitalized));
    }

    /// <summary>The first noun phrase in [from, limit): a pronoun, or determiner + nominal words (with "of"/"for" continuations).</summary>
    public (int First, int End) FirstNounPhrase(int from, int limit)
    {
        var i = from;
        while (i < limit && (IsClauseBreak(i) || (Tokens[i].IsWord && (Tokens[i].Is(WordClass.Discourse) || Tokens[i].Is(WordClass.Conjunction) || (Tokens[i].Is(WordClass.Adverb) && !Tokens[i].Is(WordClass.SubjectPronoun))))))
        {
            i++;
        }

        if (i >= limit)
        {
            return (limit, limit);
        }

        if (IsSubjectPronoun(i) && !(i + 1 < limit && IsNominal(i + 1) && Tokens[i].Is(WordClass.Determiner)))
        {
            return (i, i + 1);
        }

        var start = i;
        if (IsDeterminer(i))
        {
            i++;
        }

        var content = i;
        while (i < limit)
        {
            if (MentionStartingAt(i) is { } mentionEnd && mentionEnd <= limit && mentionEnd > i + 1)
            {
                i = mentionEnd;
            }
            else if (IsNominal(i) || ((IsWord(i, "of") || IsWord(i, "for") || IsPunct(i, '&')) && i > content && i + 1 < limit && IsNominal(i + 1)))
            {
                i++;
            }
            else
            {
                break;
            }
        }

        return i == content ? (limit, limit) : (start, i);
    }

    /// <summary>
    /// The words after a trigger up to the end of its clause, a reason cue or (optionally) a time expression:
    /// "decided to [move billing to Postgres] by Friday because ...".
    /// </summary>
    public (int First, int End) ObjectRight(int from, bool cutTimes = true, int maxTokens = 15)
    {
        var i = from;
        while (i < Tokens.Count && (IsPunct(i, ':') || IsPunct(i, '-') || IsPunct(i, '"') || IsPunct(i, '“')))
        {
            i++;
        }

        var end = ClauseEnd(i);
        if (cutTimes)
        {
            foreach (var time in Times)
            {
                if (time.Lead > i && time.Lead < end)
                {
                    end = time.Lead;
                    break;
                }
            }

            foreach (var match in Matches)
            {
                if (match.First > i && match.First < end && IsFrequency(match))
                {
                    end = match.First;
                }
            }
        }

        end = Math.Min(end, i + maxTokens);
        while (end > i && (Tokens[end - 1].Kind == TokenKind.Punct || (Tokens[end - 1].IsWord && Tokens[end - 1].Is(WordClass.Determiner))
            || (Tokens[end - 1].IsWord && (Lower(end - 1) is "and" or "or" or "the" or "a" or "an" or "to" or "of" or "for" or "with" or "on" or "at" or "by" or "in" or "as" or "so"
                || Tokens[end - 1].Is(WordClass.Auxiliary)))))
        {
            end--;
        }

        return (i, end);
    }

    /// <summary>A noun trigger with its modifiers and a following "for/of/with X": "the nightly [release process for mobile]".</summary>
    public (int First, int End) NounPhraseAround(int first, int end, bool withPrepositions = true)
    {
        var start = first;
        while (start > 0 && first - start < 4 && IsNominal(start - 1) && !Tokens[start - 1].Is(WordClass.GenericAdjective) && !IsSubjectPronoun(start - 1))
        {
            start--;
        }

        var stop = end;
        if (withPrepositions && stop + 1 < Tokens.Count && Tokens[stop].IsWord && Lower(stop) is "for" or "of" or "with" && !IsTime(stop + 1) && !IsTime(stop + 2))
        {
            var (npFirst, npEnd) = FirstNounPhrase(stop + 1, Math.Min(ClauseEnd(stop + 1), stop + 7));
            if (npEnd > npFirst && npFirst == stop + 1 || (npEnd > npFirst && npFirst == stop + 2 && IsDeterminer(stop + 1)))
            {
                stop = npEnd;
            }
        }

        return (start, stop);
    }

    /// <summary>Text of a token span without a leading article, or null when nothing is left.</summary>
    public (string Text, TextRange Range)? Phrase(int first, int end)
    {
        while (first < end && ((Tokens[first].Kind == TokenKind.Punct && Text[Tokens[first].Start] is not ('$' or '€' or '£' or '¥')) || (Tokens[first].IsWord && Tokens[first].Is(WordClass.Article))))
        {
            first++;
        }

        while (end > first && Tokens[end - 1].Kind == TokenKind.Punct && !IsPunct(end - 1, ')') && !IsPunct(end - 1, '%'))
        {
            end--;
        }

        if (end <= first)
        {
            return null;
        }

        var range = RangeOf(first, end);
        if (Tokens[end - 1].Has(TokenFlags.Possessive))
        {
            range = range with { End = range.End - 2 };
        }

        return (Text[range.Start..range.End], range);
    }

    /// <summary>Is the span a person or group (a named person, a pronoun for people, "the ops team")?</summary>
    public bool IsPersonLike(int first, int end)
    {
        if (end <= first)
        {
            return false;
        }

        for (var j = first; j < end; j++)
        {
            var t = Tokens[j];
            if (t.Kind is TokenKind.Handle or TokenKind.Email)
            {
                return true;
            }

            if (t.IsWord && (Lower(j) is "i" or "we" or "you" or "he" or "she" or "they" or "someone" or "everyone" or "nobody" || t.Is(WordClass.GroupNoun)))
            {
                return true;
            }
        }

        foreach (var (mFirst, mEnd, type) in MentionSpans)
        {
            if (type is EntityType.Person or EntityType.Organization && mFirst < end && mEnd > first)
            {
                return true;
            }
        }

        return false;
    }
}
