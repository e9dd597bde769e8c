using System.Text;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>Collects blocks in reading order and remembers the nearest heading, so every block knows its section.</summary>
internal sealed class BlockWriter
{
    private readonly List<DocumentBlock> _blocks = [];

    public string? Section { get; set; }

    public IReadOnlyList<DocumentBlock> Blocks => _blocks;

    public int Count => _blocks.Count;

    public void Heading(string text, int level, int? page = null)
    {
        var clean = TextCleanup.Clean(TextCleanup.CollapseWhitespace(text));
        if (clean.Length == 0)
        {
            return;
        }

        Section = clean.Length > 200 ? clean[..200] : clean;
        _blocks.Add(new DocumentBlock(BlockKinds.Heading, clean, Section, page, Math.Clamp(level, 1, 9)));
    }

    public void Add(string kind, string text, int? page = null, int level = 0, string? section = null)
    {
        var clean = TextCleanup.Clean(text);
        if (clean.Length > 0)
        {
            _blocks.Add(new DocumentBlock(kind, clean, section ?? Section, page, level));
        }
    }

    public void AddRange(IEnumerable<DocumentBlock> blocks) => _blocks.AddRange(blocks);
}

/// <summary>Text hygiene every block gets: what Postgres and the chunker can store and read.</summary>
internal static class TextCleanup
{
    /// <summary>
    /// Normalises line ends, removes control characters (Postgres refuses NUL) and unpaired surrogates (Npgsql's
    /// strict UTF-8 encoder refuses them), trims line ends and collapses runs of blank lines.
    /// </summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var builder = new StringBuilder(text.Length);
        var blankLines = 0;
        var lineStart = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\r')
            {
                if (i + 1 < text.Length && text[i + 1] == '\n')
                {
                    continue;
                }

                c = '\n';
            }

            if (c is '\u2028' or '\u2029' or '\v' or '\f' or '\u0085')
            {
                c = '\n';
            }

            if (c == '\n')
            {
                TrimLineEnd(builder, lineStart);
                if (builder.Length == lineStart)
                {
                    blankLines++;
                    if (blankLines > 1 || builder.Length == 0)
                    {
                        continue;
                    }
                }
                else
                {
                    blankLines = 0;
                }

                builder.Append('\n');
                lineStart = builder.Length;
                continue;
            }

            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    builder.Append(c).Append(text[++i]);
                }
                else
                {
                    builder.Append('\uFFFD');
                }

                continue;
            }

            if (char.IsLowSurrogate(c))
            {
                builder.Append('\uFFFD');
                continue;
            }

            if (c == '\u00A0')
            {
                c = ' ';
            }

            if (c == '\t' || !char.IsControl(c))
            {
                if (c is '\uFEFF' or '\u200B')
                {
                    continue;
                }

                builder.Append(c);
            }
        }

        TrimLineEnd(builder, lineStart);
        return builder.ToString().Trim();
    }

    /// <summary>Whitespace runs to one space: for inline text where the source's line breaks are only layout.</summary>
    public static string CollapseWhitespace(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var builder = new StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || c == '\u00A0')
            {
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

        return builder.ToString();
    }

    public static IEnumerable<string> SplitParagraphs(string text)
    {
        var paragraph = new StringBuilder();
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                if (paragraph.Length > 0)
                {
                    yield return paragraph.ToString();
                    paragraph.Clear();
                }

                continue;
            }

            if (paragraph.Length > 0)
            {
                paragraph.Append('\n');
            }

            paragraph.Append(line);
        }

        if (paragraph.Length > 0)
        {
            yield return paragraph.ToString();
        }
    }

    private static void TrimLineEnd(StringBuilder builder, int lineStart)
    {
        while (builder.Length > lineStart && builder[^1] is ' ' or '\t')
        {
            builder.Length--;
        }
    }
}
