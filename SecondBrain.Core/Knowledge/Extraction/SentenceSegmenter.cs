using System.Collections.Frozen;
using System.Text;

namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>
/// One sentence of a document. <see cref="Text"/> is normalised (whitespace collapsed, e-mail quote markers and list
/// bullets removed), so the same sentence quoted in another e-mail, wrapped differently, has the same text and the
/// same cache key; <see cref="ToDocument"/> maps offsets in <see cref="Text"/> back to the original document.
/// </summary>
public sealed class SentenceSpan
{
    private readonly int[] _map;

    internal SentenceSpan(int index, string text, int[] map, int paragraph, bool isListItem, bool isTableRow = false)
    {
        Index = index;
        Text = text;
        _map = map;
        Paragraph = paragraph;
        IsListItem = isListItem;
        IsTableRow = isTableRow;
        Range = new TextRange(map[0], map[^1] + 1);
    }

    public int Index { get; }

    public string Text { get; }

    /// <summary>The sentence in the original text, first to last character.</summary>
    public TextRange Range { get; }

    /// <summary>Blank-line separated paragraph (a change of e-mail quote depth also starts one).</summary>
    public int Paragraph { get; }

    public bool IsListItem { get; }

    /// <summary>A row of a table (a Markdown "| a | b |" line or a tab-separated line): one sentence, cells separated by " | ".</summary>
    public bool IsTableRow { get; }

    /// <summary>The cells of a table row, trimmed (empty cells kept, so columns line up with the header).</summary>
    public IReadOnlyList<string> Cells => IsTableRow ? TableCells(Text) : [];

    internal static string[] TableCells(string row)
    {
        var text = row.Trim();
        if (text.StartsWith('|'))
        {
            text = text[1..];
        }

        if (text.EndsWith('|'))
        {
            text = text[..^1];
        }

        return text.Split('|').Select(c => c.Trim()).ToArray();
    }

    public TextRange ToDocument(TextRange relative)
    {
        if (relative.End <= relative.Start)
        {
            var at = relative.Start >= _map.Length ? _map[^1] + 1 : _map[Math.Max(0, relative.Start)];
            return new TextRange(at, at);
        }

        var start = _map[Math.Clamp(relative.Start, 0, _map.Length - 1)];
        var end = _map[Math.Clamp(relative.End - 1, 0, _map.Length - 1)] + 1;
        return new TextRange(start, Math.Max(start, end));
    }
}

/// <summary>
/// Splits text into sentences. Boundaries: . ! ? (and ellipses) followed by a space and a non-lower-case character,
/// except after titles (Dr., Mrs.), initials (J. Smith), Latin abbreviations (e.g., i.e.) and abbreviations before a
/// number (No. 5, Jan. 3); decimals, e-mail addresses and URLs never split because their dots are not followed by a
/// space. Blank lines, list items (bullets, "1." / "a)"), lines ending with ":", short lines (greetings, sign-offs),
/// header lines (From:, Subject:) and changes of e-mail quote depth are boundaries too; other line breaks are wraps.
/// A table row (a Markdown "| a | b |" line, or a line of tab-separated cells as the HTML parser writes tables) is one
/// sentence of its own, never split at its periods; Markdown separator rows ("|---|") are dropped.
/// </summary>
public static class SentenceSegmenter
{
    public const int DefaultMaxSentenceLength = 600;

    private const int ShortLine = 40;

    private static readonly FrozenSet<string> Titles = FrozenSet.Create(StringComparer.Ordinal,
        "mr", "mrs", "ms", "mx", "dr", "prof", "rev", "hon", "st", "gen", "col", "lt", "sgt", "capt", "cmdr", "gov", "sen",
        "rep", "pres", "sr", "messrs", "mme", "mlle", "e.g", "i.e", "cf", "viz", "vs", "approx");

    private static readonly FrozenSet<string> BeforeNumber = FrozenSet.Create(StringComparer.Ordinal,
        "no", "nos", "nr", "vol", "p", "pp", "fig", "figs", "ext", "tel", "ca", "est", "art", "sec", "ch", "ver", "v", "op",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec");

    private static readonly FrozenSet<string> HeaderNames = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "from", "to", "cc", "bcc", "sent", "date", "subject", "re", "fw", "fwd");

    private readonly record struct Line(int Start, int End, int Depth, bool ListItem, bool Indented, bool Blank, bool TableRow = false, bool Separator = false);

    public static IReadOnlyList<SentenceSpan> Segment(string text, int maxSentenceLength = DefaultMaxSentenceLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sentences = new List<SentenceSpan>();
        var block = new List<Line>();
        var paragraph = 0;
        Line? previous = null;
        var builder = new StringBuilder();
        var map = new List<int>();

        foreach (var line in Lines(text))
        {
            if (line.Separator)
            {
                // A table's "|---|" row: no text, and the table goes on in the same paragraph.
                Flush();
                previous = line;
                continue;
            }

            if (line.Blank)
            {
                Flush();
                if (previous is { Blank: false })
                {
                    paragraph++;
                }

                previous = line;
                continue;
            }

            if (previous is { Blank: false } p && StartsBlock(text, p, line))
            {
                Flush();
                if (p.Depth != line.Depth)
                {
                    paragraph++;
                }
            }

            block.Add(line);
            previous = line;
        }

        Flush();
        return sentences;

        void Flush()
        {
            if (block.Count == 0)
            {
                return;
            }

            if (block[0].TableRow)
            {
                EmitRow(text, block[0], paragraph, maxSentenceLength, sentences);
                block.Clear();
                return;
            }

            builder.Clear();
            map.Clear();
            foreach (var line in block)
            {
                if (builder.Length > 0)
                {
                    builder.Append(' ');
                    map.Add(line.Start - 1);
                }

                var space = false;
                for (var i = line.Start; i < line.End; i++)
                {
                    if (char.IsWhiteSpace(text[i]))
                    {
                        space = true;
                        continue;
                    }

                    if (space && builder.Length > 0 && builder[^1] != ' ')
                    {
                        builder.Append(' ');
                        map.Add(i - 1);
                    }

                    space = false;
                    builder.Append(text[i]);
                    map.Add(i);
                }
            }

            Split(builder.ToString(), [.. map], paragraph, block[0].ListItem, maxSentenceLength, sentences);
            block.Clear();
        }
    }

    /// <summary>Whitespace collapsed to single spaces and trimmed: the form sentence cache keys are computed on.</summary>
    public static string Normalize(string sentence)
    {
        var builder = new StringBuilder(sentence.Length);
        var space = false;
        var changed = false;
        for (var i = 0; i < sentence.Length; i++)
        {
            var c = sentence[i];
            if (char.IsWhiteSpace(c))
            {
                // Anything but a single space between two words changes the text.
                changed |= c != ' ' || space || builder.Length == 0 || i == sentence.Length - 1;
                space = builder.Length > 0;
                continue;
            }

            if (space)
            {
                builder.Append(' ');
                space = false;
            }

            builder.Append(c);
        }

        return changed ? builder.ToString() : sentence;
    }

    private static bool StartsBlock(string text, Line previous, Line line)
    {
        if (line.ListItem || previous.Depth != line.Depth || line.TableRow || previous.TableRow || Columnar(text, line) || Columnar(text, previous))
        {
            return true;
        }

        if (previous.ListItem)
        {
            return !line.Indented;
        }

        // A short line is a line of its own (a greeting, a name, a heading) unless the next one carries on in lower case.
        var last = text[previous.End - 1];
        var shortLine = previous.End - previous.Start < ShortLine && !char.IsLower(text[line.Start]);
        return last == ':' || shortLine || IsHeaderLine(text, previous) || IsHeaderLine(text, line);
    }

    /// <summary>A line laid out in columns ("10 Feb   Norwegian MVA return (Marit)"): a row of its own, not a wrap.</summary>
    private static bool Columnar(string text, Line line)
    {
        if (line.End - line.Start <= 6)
        {
            return false;
        }

        // A short first column (a date, a code) then a wide gap: a layout, not a double space in prose.
        var gap = text.IndexOf("   ", line.Start, line.End - line.Start, StringComparison.Ordinal);
        return gap > line.Start && gap - line.Start <= 16 && text.IndexOf('.', line.Start, gap - line.Start) < 0;
    }

    private static bool IsHeaderLine(string text, Line line)
    {
        var colon = text.IndexOf(':', line.Start, Math.Min(line.End - line.Start, 12));
        return colon > line.Start && HeaderNames.Contains(text[line.Start..colon]);
    }

    private static IEnumerable<Line> Lines(string text)
    {
        var i = 0;
        while (i <= text.Length)
        {
            var end = text.IndexOfAny(['\n', '\r'], i);
            if (end < 0)
            {
                end = text.Length;
            }

            yield return Describe(text, i, end);
            if (end >= text.Length)
            {
                yield break;
            }

            i = end + (text[end] == '\r' && end + 1 < text.Length && text[end + 1] == '\n' ? 2 : 1);
        }
    }

    private static Line Describe(string text, int start, int end)
    {
        var i = start;
        var depth = 0;
        while (i < end && (text[i] == '>' || (char.IsWhiteSpace(text[i]) && IsQuoteAhead(text, i, end))))
        {
            if (text[i] == '>')
            {
                depth++;
            }

            i++;
        }

        var indent = i;
        while (i < end && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        var indented = i > indent;
        var contentEnd = end;
        while (contentEnd > i && char.IsWhiteSpace(text[contentEnd - 1]))
        {
            contentEnd--;
        }

        if (i >= contentEnd)
        {
            return new Line(i, i, depth, false, false, true);
        }

        if (text[i] == '|' || HasCellTab(text, i, contentEnd))
        {
            // A table row; a Markdown separator row ("|---|:--:|") carries no text and reads as a blank line.
            return IsSeparatorRow(text, i, contentEnd)
                ? new Line(i, i, depth, false, false, false, TableRow: true, Separator: true)
                : new Line(i, contentEnd, depth, false, indented, false, TableRow: true);
        }

        var marker = ListMarkerLength(text, i, contentEnd);
        if (marker > 0)
        {
            i += marker;
            while (i < contentEnd && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i >= contentEnd)
            {
                return new Line(i, i, depth, false, false, true);
            }
        }

        return new Line(i, contentEnd, depth, marker > 0, indented, false);
    }

    /// <summary>A tab between cells (the HTML parser's table rows), not a stray tab in prose: the first cell is short and holds no sentence end.</summary>
    private static bool HasCellTab(string text, int start, int end)
    {
        var tab = text.IndexOf('\t', start, end - start);
        return tab > start && tab < end - 1 && tab - start <= 80 && text.IndexOf(". ", start, tab - start, StringComparison.Ordinal) < 0;
    }

    private static bool IsSeparatorRow(string text, int start, int end)
    {
        var dashes = 0;
        for (var k = start; k < end; k++)
        {
            var c = text[k];
            if (c == '-')
            {
                dashes++;
            }
            else if (c is not ('|' or ':' or ' ' or '\t' or '+'))
            {
                return false;
            }
        }

        return dashes >= 3;
    }

    /// <summary>
    /// A table row as one sentence: whitespace collapsed, and tabs (the HTML parser's cell separator) written as " | " so
    /// cells read the same whatever table syntax they came from.
    /// </summary>
    private static void EmitRow(string source, Line line, int paragraph, int maxLength, List<SentenceSpan> sentences)
    {
        var text = new StringBuilder(line.End - line.Start + 8);
        var positions = new List<int>(line.End - line.Start + 8);
        var space = false;
        for (var k = line.Start; k < line.End && text.Length < maxLength * 2; k++)
        {
            var c = source[k];
            if (c == '\t')
            {
                while (text.Length > 0 && text[^1] == ' ')
                {
                    text.Length--;
                    positions.RemoveAt(positions.Count - 1);
                }

                foreach (var ch in " | ")
                {
                    text.Append(ch);
                    positions.Add(k);
                }

                space = false;
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                space = text.Length > 0 && text[^1] != ' ';
                continue;
            }

            if (space)
            {
                text.Append(' ');
                positions.Add(k - 1);
                space = false;
            }

            text.Append(c);
            positions.Add(k);
        }

        var row = text.ToString();
        if (!SentenceSpan.TableCells(row).Any(cell => cell.Any(char.IsLetterOrDigit)))
        {
            return;
        }

        sentences.Add(new SentenceSpan(sentences.Count, row, [.. positions], paragraph, false, isTableRow: true));
    }

    private static bool IsQuoteAhead(string text, int i, int end)
    {
        while (i < end && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        return i < end && text[i] == '>';
    }

    /// <summary>"- ", "* ", "• ", "1. ", "2) ", "(3) ", "a) ": the marker's length, or 0.</summary>
    private static int ListMarkerLength(string text, int i, int end)
    {
        bool SpaceAt(int k) => k < end && (text[k] == ' ' || text[k] == '\t');

        if (text[i] is '-' or '*' or '•' or '◦' or '▪' or '‣' or '·' or '–' or '+' && SpaceAt(i + 1))
        {
            return 1;
        }

        var j = i;
        if (text[j] == '(')
        {
            j++;
        }

        var digits = 0;
        while (j < end && char.IsAsciiDigit(text[j]) && digits < 3)
        {
            j++;
            digits++;
        }

        if (digits > 0 && j < end && (text[j] == ')' || (text[j] == '.' && text[i] != '(')) && SpaceAt(j + 1))
        {
            return j + 1 - i;
        }

        if (digits == 0 && text[i] != '(' && char.IsAsciiLetterLower(text[i]) && i + 1 < end && text[i + 1] == ')' && SpaceAt(i + 2))
        {
            return 2;
        }

        return 0;
    }

    private static void Split(string block, int[] map, int paragraph, bool listItem, int maxLength, List<SentenceSpan> sentences)
    {
        var start = 0;
        var i = 0;
        while (i < block.Length)
        {
            var c = block[i];
            if (c is not ('.' or '!' or '?' or '…'))
            {
                i++;
                continue;
            }

            var j = i;
            while (j < block.Length && block[j] is '.' or '!' or '?' or '…')
            {
                j++;
            }

            var k = j;
            while (k < block.Length && block[k] is '"' or '\'' or ')' or ']' or '’' or '”' or '»')
            {
                k++;
            }

            if (k >= block.Length || block[k] != ' ' || k + 1 >= block.Length)
            {
                i = j;
                continue;
            }

            if (IsBoundary(block, i, j, block[k + 1]))
            {
                Add(start, k);
                start = k + 1;
            }

            i = k;
        }

        Add(start, block.Length);

        void Add(int from, int to)
        {
            while (from < to && block[from] == ' ')
            {
                from++;
            }

            while (to > from && block[to - 1] == ' ')
            {
                to--;
            }

            while (to - from > maxLength)
            {
                var cut = block.LastIndexOf(", ", from + maxLength, maxLength / 2, StringComparison.Ordinal);
                cut = cut > from ? cut + 1 : block.LastIndexOf(' ', from + maxLength, maxLength / 2);
                cut = cut > from ? cut : from + maxLength;
                Emit(from, cut);
                from = cut;
                while (from < to && block[from] == ' ')
                {
                    from++;
                }
            }

            Emit(from, to);
        }

        void Emit(int from, int to)
        {
            while (to > from && block[to - 1] == ' ')
            {
                to--;
            }

            if (to <= from)
            {
                return;
            }

            var hasContent = false;
            for (var p = from; p < to && !hasContent; p++)
            {
                hasContent = char.IsLetterOrDigit(block[p]);
            }

            if (hasContent)
            {
                sentences.Add(new SentenceSpan(sentences.Count, block[from..to], map[from..to], paragraph, listItem));
            }
        }
    }

    private static bool IsBoundary(string block, int at, int runEnd, char next)
    {
        var run = block.AsSpan(at, runEnd - at);
        if (run.ContainsAny('!', '?'))
        {
            return true;
        }

        if (run.Length > 1 || run[0] == '…')
        {
            return !char.IsLower(next);
        }

        var w = at;
        while (w > 0 && (char.IsLetter(block[w - 1]) || (block[w - 1] == '.' && w - 2 >= 0 && char.IsLetter(block[w - 2]))))
        {
            w--;
        }

        if (w < at && (w == 0 || !char.IsLetterOrDigit(block[w - 1])))
        {
            var word = block[w..at];
            if (word.Length == 1 && char.IsUpper(word[0]))
            {
                return false;
            }

            var lower = word.ToLowerInvariant();
            if (Titles.Contains(lower) || (BeforeNumber.Contains(lower) && char.IsDigit(next)))
            {
                return false;
            }
        }

        return !char.IsLower(next);
    }
}
