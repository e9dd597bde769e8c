using System.Globalization;

namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>
/// Extracts the knowledge in one document: segments it, fetches the sentence analyses it can from the cache in one
/// batch, analyses only the misses (and stores them in one batch), then runs the passes that need the whole
/// document: offsets to document coordinates, the header people, pronouns resolved to earlier mentions, a reason
/// given in the next sentence, list items as process steps and years for year-less dates. Everything it builds lives
/// for this call only.
/// </summary>
public static class DocumentExtractor
{
    private const int CoreferenceWindow = 3;

    /// <param name="cache">Optional shared sentence cache: one <see cref="ISentenceAnalysisCache.GetManyAsync"/> for all the document's sentences, one <see cref="ISentenceAnalysisCache.SetManyAsync"/> for those it lacked.</param>
    public static async Task<DocumentExtraction> ExtractAsync(DocumentInput document, ISentenceAnalysisCache? cache = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        var lexicon = TriggerLexicon.Default;
        var spans = SentenceSegmenter.Segment(document.Text ?? "");
        var keys = spans.Select(s => ISentenceAnalysisCache.KeyFor(s.Text, lexicon.Version)).ToArray();
        var distinct = keys.Distinct(StringComparer.Ordinal).ToArray();

        var analyses = new Dictionary<string, SentenceAnalysis>(StringComparer.Ordinal);
        if (cache is not null && distinct.Length > 0)
        {
            var found = await cache.GetManyAsync(distinct, cancellationToken);
            foreach (var key in distinct)
            {
                if (found.TryGetValue(key, out var analysis) && analysis is not null)
                {
                    analyses[key] = analysis;
                }
            }
        }

        var hits = analyses.Count;
        var misses = new Dictionary<string, SentenceAnalysis>(StringComparer.Ordinal);
        for (var i = 0; i < spans.Count; i++)
        {
            if (!analyses.ContainsKey(keys[i]))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var analysis = SentenceAnalyzer.Analyze(spans[i].Text, lexicon);
                analyses[keys[i]] = analysis;
                misses[keys[i]] = analysis;
            }
        }

        if (cache is not null && misses.Count > 0)
        {
            await cache.SetManyAsync(misses, cancellationToken);
        }

        var stats = new ExtractionStats(spans.Count, distinct.Length, hits, misses.Count);
        return new DocumentPass(document, lexicon, spans, keys, analyses).Run(stats);
    }

    /// <summary>The document-level state: one instance per extraction, discarded with it.</summary>
    private sealed class DocumentPass(DocumentInput document, TriggerLexicon lexicon, IReadOnlyList<SentenceSpan> spans, string[] keys, Dictionary<string, SentenceAnalysis> analyses)
    {
        private readonly List<Frame>[] _frames = new List<Frame>[spans.Count];
        private readonly List<EntityMention>[] _mentions = new List<EntityMention>[spans.Count];
        private readonly List<Claim>[] _claims = new List<Claim>[spans.Count];
        private readonly List<CoreferenceLink> _links = [];
        private readonly List<Definition> _definitions = [];

        public DocumentExtraction Run(ExtractionStats stats)
        {
            var sentences = new ExtractedSentence[spans.Count];
            for (var i = 0; i < spans.Count; i++)
            {
                var span = spans[i];
                var analysis = analyses[keys[i]];
                sentences[i] = new ExtractedSentence(i, span.Range, span.Text, keys[i], span.Paragraph, span.IsListItem, analysis.IsQuestion, span.IsTableRow);
                _frames[i] = [.. analysis.Frames.Select(f => f with
                {
                    TriggerRange = span.ToDocument(f.TriggerRange),
                    SlotRanges = f.SlotRanges.ToDictionary(p => p.Key, p => span.ToDocument(p.Value), StringComparer.Ordinal),
                    SentenceIndex = i
                })];
                _mentions[i] = [.. analysis.Mentions.Select(m => m with { Range = span.ToDocument(m.Range), SentenceIndex = i })];
                _claims[i] = [.. analysis.Claims.Select(c => c with { Range = span.ToDocument(c.Range), SentenceIndex = i })];
                _definitions.AddRange(analysis.Definitions.Select(d => d with
                {
                    TermRange = span.ToDocument(d.TermRange),
                    MeaningRange = span.ToDocument(d.MeaningRange),
                    SentenceIndex = i
                }));
            }

            TableFacts.Apply(spans, _frames, _mentions, _definitions);
            ParenthesisOwners();
            var people = HeaderPeople.From(document);
            ApplyHeaderPeople(people);
            ResolvePronouns(people);
            ReasonsFromNextSentence();
            StepsFromListItems();
            CompleteYears();

            return new DocumentExtraction(
                document.DocumentId,
                lexicon.Version,
                sentences,
                [.. _frames.SelectMany(f => f)],
                [.. _mentions.SelectMany(m => m.OrderBy(x => x.Range.Start))],
                [.. _claims.SelectMany(c => c)],
                _definitions,
                _links,
                stats);
        }

        private void ApplyHeaderPeople(HeaderPeople people)
        {
            if (people.IsEmpty)
            {
                return;
            }

            for (var i = 0; i < spans.Count; i++)
            {
                var mentions = _mentions[i];
                for (var m = 0; m < mentions.Count; m++)
                {
                    if (mentions[m].Type == EntityType.Person && people.Resolve(mentions[m].Key) is { } person)
                    {
                        mentions[m] = mentions[m] with { Key = person.Key };
                    }
                }

                var claims = _claims[i];
                for (var c = 0; c < claims.Count; c++)
                {
                    if (claims[c].PredicateKey == "owner" && people.Resolve(claims[c].NormalizedValue) is { } owner)
                    {
                        claims[c] = claims[c] with { NormalizedValue = owner.Key };
                    }
                }

                foreach (var (start, end, person) in people.FindIn(spans[i].Text))
                {
                    var range = spans[i].ToDocument(new TextRange(start, end));
                    if (!mentions.Exists(m => m.Range.Start < range.End && m.Range.End > range.Start && m.Type is EntityType.Person or EntityType.Organization))
                    {
                        mentions.Add(new EntityMention(EntityType.Person, spans[i].Text[start..end], person.Key, range, i, MentionOrigin.Header));
                    }
                }
            }
        }

        private void ResolvePronouns(HeaderPeople people)
        {
            (EntityMention Mention, int Sentence)? person = null;
            (EntityMention Mention, int Sentence)? thing = null;
            (EntityMention Mention, int Sentence)? group = null;
            var byHead = new Dictionary<string, (EntityMention Mention, int Sentence)>(StringComparer.Ordinal);
            var author = people.Author;
            var speakers = LineSpeakers(people);

            for (var i = 0; i < spans.Count; i++)
            {
                var span = spans[i];
                var events = new List<(int Start, EntityMention? Mention, PronounReference? Pronoun)>();
                events.AddRange(_mentions[i].Select(m => (m.Range.Start, (EntityMention?)m, (PronounReference?)null)));
                events.AddRange(analyses[keys[i]].Pronouns.Select(p => (span.ToDocument(p.Range).Start, (EntityMention?)null, (PronounReference?)(p with { Range = span.ToDocument(p.Range) }))));
                events.Sort((a, b) => a.Start.CompareTo(b.Start));

                foreach (var (_, mention, pronoun) in events)
                {
                    if (mention is not null)
                    {
                        Remember(mention, i);
                        continue;
                    }

                    var p = pronoun!;
                    var antecedent = p.Kind switch
                    {
                        PronounKind.Person => Recent(person, i),
                        PronounKind.Thing => Recent(thing, i),
                        PronounKind.Group => Recent(group, i),
                        PronounKind.Speaker => (speakers[i] ?? author) is { } speaker
                            ? (new EntityMention(EntityType.Person, speaker.Display, speaker.Key, default, -1, MentionOrigin.Header), -1)
                            : null,
                        _ => byHead.TryGetValue(p.Head ?? "", out var headed) ? Recent(headed, i)
                            : WordLists.Is(p.Head ?? "", WordClass.GroupNoun) ? Recent(group, i) : Recent(thing, i)
                    };

                    if (antecedent is not { } found)
                    {
                        continue;
                    }

                    var (target, sentence) = found;
                    _links.Add(new CoreferenceLink(i, p.Range, p.Text, target.Type, target.Text, target.Key, sentence));
                    var resolved = new EntityMention(target.Type, p.Text, target.Key, p.Range, i, MentionOrigin.Coreference);
                    _mentions[i].Add(resolved);
                    Rewrite(i, p, target);
                    Remember(resolved with { Text = target.Text }, i);
                }
            }

            void Remember(EntityMention mention, int sentence)
            {
                switch (mention.Type)
                {
                    case EntityType.Person:
                        person = (mention, sentence);
                        break;
                    case EntityType.Organization:
                        group = (mention, sentence);
                        thing = (mention, sentence);
                        break;
                    case EntityType.Project or EntityType.System or EntityType.Term or EntityType.Acronym:
                        thing = (mention, sentence);
                        break;
                }

                var head = mention.Key.Split(' ')[^1];
                if (mention.Type is not EntityType.Person && head.Length > 0)
                {
                    byHead[head] = (mention, sentence);
                }
            }

            static (EntityMention, int)? Recent((EntityMention Mention, int Sentence)? candidate, int sentence) =>
                candidate is { } c && sentence - c.Sentence <= CoreferenceWindow ? (c.Mention, c.Sentence) : null;
        }

        /// <summary>
        /// In a conversation ("Name: message" lines, the form Slack threads and chat exports are written in) "I" is the
        /// speaker of the message, not the document's author: each sentence's speaker, carried through the message's
        /// paragraph.
        /// </summary>
        private HeaderPeople.Person?[] LineSpeakers(HeaderPeople people)
        {
            var speakers = new HeaderPeople.Person?[spans.Count];
            HeaderPeople.Person? current = null;
            var paragraph = -1;
            for (var i = 0; i < spans.Count; i++)
            {
                if (spans[i].Paragraph != paragraph)
                {
                    current = null;
                    paragraph = spans[i].Paragraph;
                }

                var colon = spans[i].Text.IndexOf(": ", StringComparison.Ordinal);
                if (colon is > 1 and <= 60 && people.Resolve(KnowledgeKeys.Entity(spans[i].Text[..colon])) is { } speaker)
                {
                    current = speaker;
                }

                speakers[i] = current;
            }

            return speakers;
        }

        /// <summary>Frame slots and claim subjects that are exactly this pronoun now name what it refers to.</summary>
        private void Rewrite(int sentence, PronounReference pronoun, EntityMention target)
        {
            var frames = _frames[sentence];
            for (var f = 0; f < frames.Count; f++)
            {
                var frame = frames[f];
                Dictionary<string, string>? slots = null;
                foreach (var (name, range) in frame.SlotRanges)
                {
                    if (range == pronoun.Range)
                    {
                        slots ??= new Dictionary<string, string>(frame.Slots, StringComparer.Ordinal);
                        slots[name] = target.Text;
                    }
                }

                if (slots is not null)
                {
                    frames[f] = frame with { Slots = slots };
                }
            }

            var claims = _claims[sentence];
            for (var c = 0; c < claims.Count; c++)
            {
                var claim = claims[c];
                if (claim.Range.Start == pronoun.Range.Start && string.Equals(claim.Subject, pronoun.Text, StringComparison.OrdinalIgnoreCase))
                {
                    var key = target.Type == EntityType.Person ? target.Key : KnowledgeKeys.Phrase(target.Text);
                    claims[c] = claim = claim with { Subject = target.Text, SubjectKey = key, SubjectHead = KnowledgeKeys.Head(key) };
                }

                if (claim.PredicateKey == "owner" && string.Equals(claim.Value, pronoun.Text, StringComparison.OrdinalIgnoreCase))
                {
                    claims[c] = claim with { Value = target.Text, NormalizedValue = target.Key };
                }
                else if (claim.PredicateKey == "owner" && string.Equals(claim.Subject, pronoun.Text, StringComparison.OrdinalIgnoreCase))
                {
                    var key = KnowledgeKeys.Phrase(target.Text);
                    claims[c] = claim with { Subject = target.Text, SubjectKey = key, SubjectHead = KnowledgeKeys.Head(key) };
                }
            }
        }

        /// <summary>
        /// "Restore drill twice a year (Tomasz)", "Planner training (Lucía)", "Decided by the platform group (Marcus Webb,
        /// Priya Nair)": people named in a parenthesis that closes a line item or a sentence are who does or owns it. A
        /// word the document uses for something else (a product in "(Tollgate, Waypoint)") is not taken for a person.
        /// </summary>
        private void ParenthesisOwners()
        {
            var others = _mentions.SelectMany(m => m).Where(m => m.Type is not EntityType.Person).Select(m => m.Key).ToHashSet(StringComparer.Ordinal);
            for (var i = 0; i < spans.Count; i++)
            {
                if (spans[i].IsTableRow || ClosingParenthesis(spans[i].Text) is not { } group)
                {
                    continue;
                }

                var text = spans[i].Text;
                var people = new List<EntityMention>();
                foreach (var (start, end) in Items(text, group.Start, group.End))
                {
                    var name = text[start..end];
                    var key = KnowledgeKeys.Entity(name);
                    var words = name.Split(' ');
                    if (!TableFacts.PersonLike(name) || others.Contains(key) || words.Any(w => w.Count(char.IsUpper) > 1 && !w.Contains('-'))
                        || (words.Length == 1 && WordLists.Classes.ContainsKey(key)))
                    {
                        people.Clear();
                        break;
                    }

                    var range = spans[i].ToDocument(new TextRange(start, end));
                    var existing = _mentions[i].FirstOrDefault(m => m.Range.Start < range.End && range.Start < m.Range.End);
                    if (existing is { Type: not EntityType.Person })
                    {
                        people.Clear();
                        break;
                    }

                    people.Add(existing ?? new EntityMention(EntityType.Person, name, key, range, i));
                }

                var before = text[..group.Start].TrimEnd(' ', '(');
                // What the parenthesis follows must be a task or a thing described ("Restore drill twice a year"), not
                // a name: after a name it is an apposition, most often a place ("Harehills (Leeds)", "Acme (Berlin)").
                if (people.Count == 0 || before.Length < 3 || !before.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                        .Any(w => w.Trim('*', '_', '`', '"', ',', ':', '-').Length >= 3 && char.IsLower(w.Trim('*', '_', '`', '"', ',', ':', '-')[0])))
                {
                    continue;
                }

                foreach (var person in people.Where(p => !_mentions[i].Contains(p)))
                {
                    _mentions[i].Add(person);
                }

                if (_frames[i].Exists(f => f.Type == FrameType.Ownership || (f.Slots.ContainsKey(FrameSlots.Owner) && f.Type == FrameType.Process)))
                {
                    continue;
                }

                var thing = new TextRange(0, before.Length);
                foreach (var person in people)
                {
                    var slots = new Dictionary<string, string>(StringComparer.Ordinal) { [FrameSlots.Owner] = person.Text, [FrameSlots.Object] = before };
                    var ranges = new Dictionary<string, TextRange>(StringComparer.Ordinal) { [FrameSlots.Owner] = person.Range, [FrameSlots.Object] = spans[i].ToDocument(thing) };
                    _frames[i].Add(new Frame(FrameType.Ownership, "(owner)", "(owner)", person.Range, false, 0.7, slots, ranges, [], i));
                }

                // A process in the item ("... every quarter (Marit)") has its owner now.
                for (var f = 0; f < _frames[i].Count; f++)
                {
                    if (_frames[i][f].Type == FrameType.Process && _frames[i][f].MissingSlots.Contains(FrameSlots.Owner))
                    {
                        _frames[i][f] = Fill(_frames[i][f], FrameSlots.Owner, people[0].Text, people[0].Range);
                    }
                }
            }
        }

        /// <summary>The last parenthesis of a sentence when only a short tail (" - filed 29 Jan", ".") follows it.</summary>
        private static TextRange? ClosingParenthesis(string text)
        {
            var close = text.LastIndexOf(')');
            var open = close > 0 ? text.LastIndexOf('(', close) : -1;
            if (open <= 0 || close - open < 3 || close - open > 80)
            {
                return null;
            }

            var tail = text[(close + 1)..].Trim();
            return tail.Length == 0 || tail is "." or ";" or ":" || (tail.StartsWith('-') && tail.Length <= 30) || (tail.StartsWith('–') && tail.Length <= 30)
                ? new TextRange(open + 1, close)
                : null;
        }

        private static IEnumerable<(int Start, int End)> Items(string text, int start, int end)
        {
            var from = start;
            for (var k = start; k <= end; k++)
            {
                var stop = k == end || text[k] == ',' || text[k] == '&' || (k + 5 <= end && string.CompareOrdinal(text, k, " and ", 0, 5) == 0);
                if (!stop)
                {
                    continue;
                }

                var (a, b) = (from, k);
                while (a < b && text[a] == ' ')
                {
                    a++;
                }

                while (b > a && text[b - 1] == ' ')
                {
                    b--;
                }

                if (b > a)
                {
                    yield return (a, b);
                }

                from = k + (k < end && text[k] == ' ' ? 5 : 1);
                if (k < end && text[k] == ' ')
                {
                    k += 4;
                }
            }
        }

        /// <summary>"We decided to drop Oracle. The reason is the licence cost." fills the decision's rationale.</summary>
        private void ReasonsFromNextSentence()
        {
            for (var i = 0; i + 1 < spans.Count; i++)
            {
                if (analyses[keys[i + 1]].ExplainsPrevious is not { } relative || spans[i + 1].Paragraph != spans[i].Paragraph)
                {
                    continue;
                }

                var text = spans[i + 1].Text[relative.Start..relative.End];
                var range = spans[i + 1].ToDocument(relative);
                var frames = _frames[i];
                for (var f = 0; f < frames.Count; f++)
                {
                    var slot = frames[f].Type switch
                    {
                        FrameType.Decision => FrameSlots.Rationale,
                        FrameType.Problem => FrameSlots.Cause,
                        _ => null
                    };

                    if (slot is not null && frames[f].MissingSlots.Contains(slot))
                    {
                        frames[f] = Fill(frames[f], slot, text, range);
                    }
                }
            }
        }

        /// <summary>"The release process:" followed by bullet items: the items are its steps.</summary>
        private void StepsFromListItems()
        {
            for (var i = 0; i + 1 < spans.Count; i++)
            {
                if (!spans[i].Text.EndsWith(':') || !spans[i + 1].IsListItem)
                {
                    continue;
                }

                var frames = _frames[i];
                for (var f = 0; f < frames.Count; f++)
                {
                    if (frames[f].Type != FrameType.Process || frames[f].Slots.ContainsKey(FrameSlots.Steps))
                    {
                        continue;
                    }

                    var last = i + 1;
                    while (last + 1 < spans.Count && spans[last + 1].IsListItem && last - i < 20)
                    {
                        last++;
                    }

                    var steps = string.Join("; ", spans.Skip(i + 1).Take(last - i).Select(s => s.Text.TrimEnd('.', ';')));
                    frames[f] = Fill(frames[f], FrameSlots.Steps, steps, new TextRange(spans[i + 1].Range.Start, spans[last].Range.End));
                }
            }
        }

        private Frame Fill(Frame frame, string slot, string text, TextRange range)
        {
            var slots = new Dictionary<string, string>(frame.Slots, StringComparer.Ordinal) { [slot] = text };
            var ranges = new Dictionary<string, TextRange>(frame.SlotRanges, StringComparer.Ordinal) { [slot] = range };
            var missing = frame.MissingSlots.Where(s => s != slot).ToArray();
            var required = FrameSlots.Required(frame.Type).Count;
            var weight = lexicon.Find(frame.TriggerPhrase)?.Weight ?? frame.Confidence;
            var confidence = Math.Round(weight * (0.5 + (0.5 * (required - missing.Length) / required)), 2);
            return frame with { Slots = slots, SlotRanges = ranges, MissingSlots = missing, Confidence = confidence };
        }

        /// <summary>"March 3" in a mail sent in December 2024 means 2025-03-03: the year that puts it closest to the document's date.</summary>
        private void CompleteYears()
        {
            if (document.Date is not { } date)
            {
                return;
            }

            foreach (var claims in _claims)
            {
                for (var c = 0; c < claims.Count; c++)
                {
                    var value = claims[c].NormalizedValue;
                    if (claims[c].ValueKind != ClaimValueKind.Date || !value.StartsWith("--", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var month = int.Parse(value.AsSpan(2, 2), CultureInfo.InvariantCulture);
                    var day = value.Length >= 7 ? int.Parse(value.AsSpan(5, 2), CultureInfo.InvariantCulture) : 1;
                    var best = Enumerable.Range(date.Year - 1, 3)
                        .Where(y => day <= DateTime.DaysInMonth(y, month))
                        .OrderBy(y => Math.Abs((new DateTime(y, month, day, 0, 0, 0, DateTimeKind.Unspecified) - date.Date).TotalDays))
                        .First();
                    claims[c] = claims[c] with { NormalizedValue = value.Length >= 7 ? $"{best:D4}-{month:D2}-{day:D2}" : $"{best:D4}-{month:D2}" };
                }
            }
        }
    }
}
