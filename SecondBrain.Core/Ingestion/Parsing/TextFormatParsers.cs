using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>Plain text: paragraphs split on blank lines.</summary>
internal static class PlainTextParser
{
    public static ParseResult Parse(string text, CancellationToken cancellationToken)
    {
        var writer = new BlockWriter();
        foreach (var paragraph in TextCleanup.SplitParagraphs(text))
        {
            cancellationToken.ThrowIfCancellationRequested();
            writer.Add(BlockKinds.Paragraph, paragraph);
        }

        return new ParseResult(writer.Blocks);
    }
}

/// <summary>Markdown: ATX and setext headings become heading blocks; lists, tables and fenced code stay whole.</summary>
internal static partial class MarkdownParser
{
    [GeneratedRegex(@"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$", RegexOptions.NonBacktracking)]
    private static partial Regex AtxHeading();

    [GeneratedRegex(@"^ {0,3}(=+|-+)[ \t]*$", RegexOptions.NonBacktracking)]
    private static partial Regex SetextUnderline();

    [GeneratedRegex(@"^ {0,3}(```|~~~)", RegexOptions.NonBacktracking)]
    private static partial Regex Fence();

    [GeneratedRegex(@"^\s*([-*+]|\d{1,9}[.)])\s+", RegexOptions.NonBacktracking)]
    private static partial Regex ListItem();

    public static ParseResult Parse(string text, CancellationToken cancellationToken)
    {
        var writer = new BlockWriter();
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var paragraph = new List<string>();
        string? title = null;

        void Flush()
        {
            if (paragraph.Count == 0)
            {
                return;
            }

            var kind = paragraph.All(l => ListItem().IsMatch(l) || l.StartsWith("  ", StringComparison.Ordinal) || l.StartsWith('\t'))
                && ListItem().IsMatch(paragraph[0])
                ? BlockKinds.List
                : paragraph.All(l => l.TrimStart().StartsWith('|')) ? BlockKinds.Table : BlockKinds.Paragraph;
            writer.Add(kind, string.Join('\n', paragraph));
            paragraph.Clear();
        }

        for (var i = 0; i < lines.Length; i++)
        {
            if ((i & 0xFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var line = lines[i];
            if (Fence().Match(line) is { Success: true } fence)
            {
                Flush();
                var code = new List<string> { line };
                for (i++; i < lines.Length; i++)
                {
                    code.Add(lines[i]);
                    if (lines[i].TrimStart().StartsWith(fence.Groups[1].Value, StringComparison.Ordinal))
                    {
                        break;
                    }
                }

                writer.Add(BlockKinds.Paragraph, string.Join('\n', code));
                continue;
            }

            if (AtxHeading().Match(line) is { Success: true } atx)
            {
                Flush();
                var headingText = atx.Groups[2].Value;
                title ??= headingText.Trim() is { Length: > 0 } h ? h : null;
                writer.Heading(headingText, atx.Groups[1].Length);
                continue;
            }

            if (paragraph.Count == 1 && SetextUnderline().Match(line) is { Success: true } underline && !ListItem().IsMatch(paragraph[0]))
            {
                var headingText = paragraph[0];
                paragraph.Clear();
                title ??= headingText.Trim();
                writer.Heading(headingText, underline.Groups[1].Value[0] == '=' ? 1 : 2);
                continue;
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                Flush();
                continue;
            }

            paragraph.Add(line);
        }

        Flush();
        return new ParseResult(writer.Blocks, Title: title);
    }
}

/// <summary>
/// CSV: rows as tab-separated lines in table blocks of a bounded number of rows, each block repeating the header
/// so a chunk taken from the middle still says what its columns mean.
/// </summary>
internal static class CsvParser
{
    private const int RowsPerBlock = 40;
    private const int MaxRows = 200_000;

    public static ParseResult Parse(string text, CancellationToken cancellationToken)
    {
        var delimiter = GuessDelimiter(text);
        string? header = null;
        var rows = new List<string>(RowsPerBlock);
        var writer = new BlockWriter();
        var count = 0;

        void Flush()
        {
            if (rows.Count > 0)
            {
                writer.Add(BlockKinds.Table, header is null ? string.Join('\n', rows) : header + "\n" + string.Join('\n', rows));
                rows.Clear();
            }
        }

        foreach (var row in ReadRows(text, delimiter))
        {
            if ((++count & 0xFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (count > MaxRows)
            {
                break;
            }

            var line = string.Join('\t', row.Select(field => TextCleanup.CollapseWhitespace(field)));
            if (line.Replace("\t", "").Trim().Length == 0)
            {
                continue;
            }

            if (header is null)
            {
                header = line;
                continue;
            }

            rows.Add(line);
            if (rows.Count == RowsPerBlock)
            {
                Flush();
            }
        }

        Flush();
        if (writer.Count == 0 && header is not null)
        {
            writer.Add(BlockKinds.Table, header);
        }

        return new ParseResult(writer.Blocks);
    }

    private static char GuessDelimiter(string text)
    {
        var firstLine = text.AsSpan(0, Math.Min(text.Length, 4096));
        var newline = firstLine.IndexOf('\n');
        if (newline >= 0)
        {
            firstLine = firstLine[..newline];
        }

        char[] candidates = [',', ';', '\t', '|'];
        var best = ',';
        var bestCount = 0;
        foreach (var candidate in candidates)
        {
            var count = firstLine.Count(candidate);
            if (count > bestCount)
            {
                (best, bestCount) = (candidate, count);
            }
        }

        return best;
    }

    /// <summary>RFC 4180 reading: quoted fields may hold delimiters, doubled quotes and line breaks.</summary>
    private static IEnumerable<List<string>> ReadRows(string text, char delimiter)
    {
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        field.Append('"');
                        i++;
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    field.Append(c);
                }

                continue;
            }

            if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (c == delimiter)
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                row.Add(field.ToString());
                field.Clear();
                yield return row;
                row = [];
            }
            else
            {
                field.Append(c);
            }
        }

        if (field.Length > 0 || row.Count > 0)
        {
            row.Add(field.ToString());
            yield return row;
        }
    }
}

/// <summary>
/// JSON: every scalar as "path: value", grouped by top-level key (the section), so keys give each value its
/// context. JSON Lines is read line by line; text that is not JSON at all is kept as plain text.
/// </summary>
internal static class JsonParser
{
    private const int LinesPerBlock = 40;
    private const int MaxDepth = 64;

    public static ParseResult Parse(string text, CancellationToken cancellationToken)
    {
        var options = new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 };
        var writer = new BlockWriter();
        try
        {
            using var document = JsonDocument.Parse(text, options);
            WriteRoot(document.RootElement, writer, cancellationToken);
            return new ParseResult(writer.Blocks);
        }
        catch (JsonException)
        {
        }

        // JSON Lines: one value per line.
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(line, options);
                writer.Section = $"line {lineNumber.ToString(CultureInfo.InvariantCulture)}";
                var lines = new List<string>();
                Flatten(document.RootElement, "", lines, 0, cancellationToken);
                WriteLines(writer, lines);
            }
            catch (JsonException)
            {
                return PlainTextParser.Parse(text, cancellationToken);
            }
        }

        return new ParseResult(writer.Blocks);
    }

    private static void WriteRoot(JsonElement root, BlockWriter writer, CancellationToken cancellationToken)
    {
        if (root.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in root.EnumerateObject())
            {
                writer.Section = property.Name;
                var lines = new List<string>();
                Flatten(property.Value, property.Name, lines, 1, cancellationToken);
                WriteLines(writer, lines);
            }

            return;
        }

        if (root.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in root.EnumerateArray())
            {
                writer.Section = $"[{index.ToString(CultureInfo.InvariantCulture)}]";
                var lines = new List<string>();
                Flatten(item, writer.Section, lines, 1, cancellationToken);
                WriteLines(writer, lines);
                index++;
            }

            return;
        }

        writer.Add(BlockKinds.Paragraph, Scalar(root));
    }

    private static void WriteLines(BlockWriter writer, List<string> lines)
    {
        for (var start = 0; start < lines.Count; start += LinesPerBlock)
        {
            writer.Add(BlockKinds.Paragraph, string.Join('\n', lines.Skip(start).Take(LinesPerBlock)));
        }
    }

    private static void Flatten(JsonElement element, string path, List<string> lines, int depth, CancellationToken cancellationToken)
    {
        if ((lines.Count & 0xFF) == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        if (depth > MaxDepth)
        {
            lines.Add($"{path}: {TextCleanup.CollapseWhitespace(element.GetRawText())}");
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Flatten(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", lines, depth + 1, cancellationToken);
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Flatten(item, $"{path}[{i.ToString(CultureInfo.InvariantCulture)}]", lines, depth + 1, cancellationToken);
                    i++;
                }

                break;
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                break;
            default:
                var value = Scalar(element);
                if (value.Length > 0)
                {
                    lines.Add(path.Length == 0 ? value : $"{path}: {value}");
                }

                break;
        }
    }

    private static string Scalar(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString() ?? "",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "",
        _ => element.GetRawText()
    };
}

/// <summary>
/// Text that a connector already extracted. A Slack thread is "Author: message" per message (continuation lines
/// belong to the message above); anything else is paragraphs.
/// </summary>
internal static partial class MessageTextParser
{
    [GeneratedRegex(@"^[^\s:][^:\n]{0,79}: ", RegexOptions.NonBacktracking)]
    private static partial Regex MessageStart();

    public static ParseResult ParseSlackThread(string text, CancellationToken cancellationToken)
    {
        var writer = new BlockWriter();
        var message = new StringBuilder();
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (MessageStart().IsMatch(line) && message.Length > 0)
            {
                writer.Add(BlockKinds.Message, message.ToString());
                message.Clear();
            }

            if (message.Length > 0)
            {
                message.Append('\n');
            }

            message.Append(line);
        }

        writer.Add(BlockKinds.Message, message.ToString());
        return new ParseResult(writer.Blocks);
    }
}
