using System.Text;

namespace SecondBrain.Core.Ingestion.Chunking;

/// <summary>
/// Cuts parsed blocks into chunks by structure. Neighbouring blocks merge only when they are of one kind, one
/// section and one page (so a quoted reply or a signature never dilutes the message body it follows); slides,
/// tables and sheets stay one block per chunk; headings name the section and lead the chunk that follows them.
/// A group that does not fit is cut at the strongest boundary available (paragraph, then sentence or line, then
/// word), and a cut inside a paragraph repeats up to <see cref="ChunkingOptions.OverlapTokens"/> tokens so no
/// sentence loses its context. Sizes are MiniLM word pieces, so no chunk is truncated by the model.
/// </summary>
public static class Chunker
{
    private const int MinimumMaxTokens = 8;
    private const string SectionSeparator = " > ";

    /// <summary>MiniLM word pieces in <paramref name="text"/>, without the [CLS] and [SEP] the model adds.</summary>
    public static int CountTokens(string text) => WordPieceCounter.Count(text);

    public static IReadOnlyList<TextChunk> Split(IReadOnlyList<DocumentBlock> blocks, ChunkingOptions options)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxTokens, MinimumMaxTokens, nameof(options));
        var limits = new Limits(
            options.MaxTokens,
            Math.Clamp(options.MinTokens, 0, options.MaxTokens),
            // More overlap than half a chunk would make every chunk mostly a repeat of the previous one.
            Math.Clamp(options.OverlapTokens, 0, options.MaxTokens / 2));

        var chunks = new List<TextChunk>();
        var headingPath = new List<(int Level, string Text)>();
        var pendingHeadings = new List<string>();
        Group? group = null;

        foreach (var block in blocks)
        {
            var text = block.Text.Trim();
            if (text.Length == 0)
            {
                continue;
            }

            if (block.Kind == BlockKinds.Heading)
            {
                Flush(group, limits, chunks);
                group = null;
                var level = Math.Max(1, block.Level);
                headingPath.RemoveAll(h => h.Level >= level);
                headingPath.Add((level, CollapseLines(text)));
                pendingHeadings.Add(text);
                continue;
            }

            var section = block.Section ?? SectionOf(headingPath);
            if (group is not null && group.Accepts(block.Kind, section, block.Page))
            {
                group.Append(text);
                continue;
            }

            Flush(group, limits, chunks);
            group = new Group(block.Kind, section, block.Page, pendingHeadings);
            group.Append(text);
            pendingHeadings.Clear();
        }

        Flush(group, limits, chunks);

        // Headings with nothing after them still hold text a search may need.
        if (pendingHeadings.Count > 0)
        {
            var trailing = new Group(BlockKinds.Heading, SectionOf(headingPath), null, []);
            trailing.Append(string.Join('\n', pendingHeadings));
            Flush(trailing, limits, chunks);
        }

        return chunks;
    }

    private static string? SectionOf(List<(int Level, string Text)> path) =>
        path.Count == 0 ? null : string.Join(SectionSeparator, path.Select(h => h.Text));

    private static string CollapseLines(string text) =>
        text.Contains('\n') ? string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) : text;

    private static void Flush(Group? group, Limits limits, List<TextChunk> chunks)
    {
        if (group is null)
        {
            return;
        }

        foreach (var text in Pack(group.Text, group.PrefixLength, limits))
        {
            chunks.Add(new TextChunk(chunks.Count, text, group.Kind, group.Section, group.Page, CountTokens(text)));
        }
    }

    private readonly record struct Limits(int Max, int Min, int Overlap);

    /// <summary>Consecutive blocks that may share chunks, joined as paragraphs, with any headings in front.</summary>
    private sealed class Group
    {
        private readonly StringBuilder _text = new();
        private bool _hasBody;

        public Group(string kind, string? section, int? page, IReadOnlyList<string> headings)
        {
            Kind = kind;
            Section = section;
            Page = page;
            if (headings.Count > 0)
            {
                _text.AppendJoin('\n', headings);
                PrefixLength = _text.Length;
            }
        }

        public string Kind { get; }
        public string? Section { get; }
        public int? Page { get; }

        /// <summary>Characters of heading text in front; the first chunk must reach beyond them.</summary>
        public int PrefixLength { get; }

        public string Text => _text.ToString();

        public bool Accepts(string kind, string? section, int? page) =>
            IsMergeable(kind) && kind == Kind && string.Equals(section, Section, StringComparison.Ordinal) && page == Page;

        public void Append(string text)
        {
            if (_text.Length > 0)
            {
                _text.Append(_hasBody ? "\n\n" : "\n");
            }

            _text.Append(text);
            _hasBody = true;
        }

        // A slide, a table or a sheet is a unit a reader looks at whole; merging two would blur both.
        private static bool IsMergeable(string kind) => kind is not (BlockKinds.Slide or BlockKinds.Table or BlockKinds.Sheet);
    }

    private enum Boundary
    {
        // Inside a word: "e-mail", "end." — a cut here is the last resort.
        None = 0,
        Word = 1,
        Sentence = 2,
        Paragraph = 3
    }

    private static List<string> Pack(string text, int prefixLength, Limits limits)
    {
        var tokens = SplitOversized(text, WordPieceCounter.Tokenize(text), limits.Max);
        var result = new List<string>();
        var n = tokens.Count;
        if (n == 0)
        {
            return result;
        }

        var cumulative = new int[n + 1];
        for (var i = 0; i < n; i++)
        {
            cumulative[i + 1] = cumulative[i] + tokens[i].Pieces;
        }

        // after[i]: how strongly the text may be cut between token i and token i + 1.
        var after = new Boundary[n];
        for (var i = 0; i < n - 1; i++)
        {
            after[i] = BoundaryBetween(text, tokens, i);
        }

        after[n - 1] = Boundary.Paragraph;

        // The first chunk has to hold more than the headings, else a heading would stand alone.
        var firstBody = 0;
        while (firstBody < n && tokens[firstBody].Start < prefixLength)
        {
            firstBody++;
        }

        var firstMinimumEnd = Math.Min(n, firstBody + 1);

        var start = 0;
        var minimumEnd = firstMinimumEnd;
        while (start < n)
        {
            var end = start;
            while (end < n && cumulative[end + 1] - cumulative[start] <= limits.Max)
            {
                end++;
            }

            if (end == n)
            {
                result.Add(Slice(text, tokens, start, n));
                break;
            }

            var cut = ChooseCut(after, cumulative, start, Math.Max(minimumEnd, start + 1), end, limits.Min);
            result.Add(Slice(text, tokens, start, cut));

            start = after[cut - 1] == Boundary.Paragraph ? cut : OverlapStart(after, tokens, cumulative, start, cut, limits);
            minimumEnd = start + 1;
        }

        return result;
    }

    /// <summary>The end (exclusive token index) of the chunk starting at <paramref name="start"/>.</summary>
    private static int ChooseCut(Boundary[] after, int[] cumulative, int start, int minimumEnd, int maximumEnd, int minTokens)
    {
        minimumEnd = Math.Min(minimumEnd, maximumEnd);
        foreach (var wanted in (ReadOnlySpan<Boundary>)[Boundary.Paragraph, Boundary.Sentence, Boundary.Word])
        {
            for (var end = maximumEnd; end >= minimumEnd; end--)
            {
                if (cumulative[end] - cumulative[start] < minTokens)
                {
                    break;
                }

                if (after[end - 1] >= wanted)
                {
                    return end;
                }
            }
        }

        // Nothing reaches the minimum size: a smaller chunk cut between words beats a word cut in half.
        for (var end = maximumEnd; end >= minimumEnd; end--)
        {
            if (after[end - 1] >= Boundary.Word)
            {
                return end;
            }
        }

        return maximumEnd;
    }

    /// <summary>Where the next chunk starts so that it repeats the end of the previous one.</summary>
    private static int OverlapStart(Boundary[] after, List<WordPieceCounter.BasicToken> tokens, int[] cumulative, int start, int cut, Limits limits)
    {
        // The repeated tokens plus the next new token must fit, or the next chunk would make no progress.
        var budget = Math.Min(limits.Overlap, limits.Max - tokens[cut].Pieces);
        var from = cut;
        while (from - 1 > start && cumulative[cut] - cumulative[from - 1] <= budget)
        {
            from--;
        }

        if (from == cut)
        {
            return cut;
        }

        // Starting the repeat at a sentence reads better, as long as it keeps at least half the overlap.
        for (var candidate = from; candidate < cut; candidate++)
        {
            if (cumulative[cut] - cumulative[candidate] < limits.Overlap / 2)
            {
                break;
            }

            if (after[candidate - 1] >= Boundary.Sentence)
            {
                return candidate;
            }
        }

        while (from < cut && after[from - 1] == Boundary.None)
        {
            from++;
        }

        return from;
    }

    private static Boundary BoundaryBetween(string text, List<WordPieceCounter.BasicToken> tokens, int i)
    {
        var left = tokens[i];
        var right = tokens[i + 1];
        var gapStart = left.Start + left.Length;
        if (gapStart == right.Start)
        {
            return Boundary.None;
        }

        var newlines = 0;
        for (var k = gapStart; k < right.Start; k++)
        {
            if (text[k] == '\n')
            {
                newlines++;
            }
        }

        if (newlines >= 2)
        {
            return Boundary.Paragraph;
        }

        if (newlines == 1)
        {
            return Boundary.Sentence;
        }

        return EndsSentence(text, tokens, i) && !char.IsLower(text[right.Start]) ? Boundary.Sentence : Boundary.Word;
    }

    private static bool EndsSentence(string text, List<WordPieceCounter.BasicToken> tokens, int i)
    {
        // Closing quotes and brackets may follow the full stop: 'He said "no." Then...'.
        for (var k = i; k >= 0 && k >= i - 2; k--)
        {
            var token = tokens[k];
            if (token.Length != 1)
            {
                return false;
            }

            var c = text[token.Start];
            if (c is '.' or '!' or '?' or '…' or '。' or '！' or '？')
            {
                return true;
            }

            if (c is not ('"' or '\'' or ')' or ']' or '”' or '’' or '»'))
            {
                return false;
            }

            if (k > 0 && tokens[k - 1].Start + tokens[k - 1].Length != token.Start)
            {
                return false;
            }
        }

        return false;
    }

    private static string Slice(string text, List<WordPieceCounter.BasicToken> tokens, int start, int end)
    {
        var from = tokens[start].Start;
        var to = tokens[end - 1].Start + tokens[end - 1].Length;
        return text[from..to];
    }

    /// <summary>
    /// A single run of letters can exceed a small token limit (only below 100 tokens: longer runs are one [UNK]).
    /// It is cut into pieces of at most <paramref name="max"/> characters, each counted as a full chunk so none
    /// shares a chunk and every piece is known to fit (a character yields at most one word piece).
    /// </summary>
    private static List<WordPieceCounter.BasicToken> SplitOversized(string text, List<WordPieceCounter.BasicToken> tokens, int max)
    {
        if (tokens.TrueForAll(t => t.Pieces <= max))
        {
            return tokens;
        }

        var result = new List<WordPieceCounter.BasicToken>(tokens.Count + 8);
        foreach (var token in tokens)
        {
            if (token.Pieces <= max)
            {
                result.Add(token);
                continue;
            }

            var position = token.Start;
            var end = token.Start + token.Length;
            while (position < end)
            {
                var length = Math.Min(max, end - position);
                if (position + length < end && char.IsHighSurrogate(text[position + length - 1]))
                {
                    length--;
                }

                result.Add(new WordPieceCounter.BasicToken(position, length, max));
                position += length;
            }
        }

        return result;
    }
}
