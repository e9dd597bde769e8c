using System.Globalization;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>
/// .docx with the Open XML SDK: paragraphs in body order, heading styles (and outline levels) as heading blocks with
/// their level, numbered/bulleted paragraphs gathered into list blocks, tables as tab-separated rows.
/// </summary>
internal static class WordParser
{
    private const int MaxStyleChain = 10;

    public static ParseResult Parse(byte[] content, ParsingLimits limits, CancellationToken cancellationToken)
    {
        OfficeParsing.CheckPackage(content, limits);
        using var stream = new MemoryStream(content, writable: false);
        using var document = WordprocessingDocument.Open(stream, false, OfficeParsing.OpenSettings(limits));
        var main = document.MainDocumentPart ?? throw new DocumentParseException("The Word document is malformed: it has no main document part.");
        var body = main.Document?.Body ?? throw new DocumentParseException("The Word document is malformed: it has no body.");

        var context = new Context(StyleLevels(main), ListStyles(main), new BlockWriter(), cancellationToken) { BodySize = BodyFontSize(body) };
        WriteContainer(body, context);
        context.FlushList();

        // Some documents keep their only text in headers and footers (letterheads, forms).
        if (context.Writer.Count == 0)
        {
            foreach (var part in main.HeaderParts.Select(h => (OpenXmlElement?)h.Header).Concat(main.FooterParts.Select(f => (OpenXmlElement?)f.Footer)))
            {
                if (part is not null)
                {
                    WriteContainer(part, context);
                    context.FlushList();
                }
            }
        }

        var properties = document.PackageProperties;
        return new ParseResult(
            context.Writer.Blocks,
            Title: OfficeParsing.NullIfBlank(properties.Title),
            Author: OfficeParsing.NullIfBlank(properties.Creator),
            Date: OfficeParsing.ToOffset(properties.Created ?? properties.Modified));
    }

    private sealed class Context(Dictionary<string, int> headingStyles, HashSet<string> listStyles, BlockWriter writer, CancellationToken cancellationToken)
    {
        public Dictionary<string, int> HeadingStyles { get; } = headingStyles;
        public HashSet<string> ListStyles { get; } = listStyles;
        public BlockWriter Writer { get; } = writer;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public List<string> ListItems { get; } = [];
        public int Elements { get; set; }

        /// <summary>The most common run font size (half-points), to recognise headings set by direct formatting.</summary>
        public int? BodySize { get; init; }

        public void FlushList()
        {
            if (ListItems.Count > 0)
            {
                Writer.Add(BlockKinds.List, string.Join('\n', ListItems));
                ListItems.Clear();
            }
        }
    }

    private static void WriteContainer(OpenXmlElement container, Context context)
    {
        foreach (var element in container.ChildElements)
        {
            if ((++context.Elements & 0xFF) == 0)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
            }

            switch (element)
            {
                case Paragraph paragraph:
                    WriteParagraph(paragraph, context);
                    break;
                case Table table:
                    context.FlushList();
                    WriteTable(table, context);
                    break;
                case SdtBlock sdt when sdt.SdtContentBlock is { } sdtContent:
                    WriteContainer(sdtContent, context);
                    break;
                case CustomXmlBlock or SdtContentBlock:
                    WriteContainer(element, context);
                    break;
            }
        }
    }

    private static void WriteParagraph(Paragraph paragraph, Context context)
    {
        var text = ParagraphText(paragraph).Trim();
        if (text.Length == 0)
        {
            return;
        }

        var properties = paragraph.ParagraphProperties;
        var styleId = properties?.ParagraphStyleId?.Val?.Value;
        int? level = properties?.OutlineLevel?.Val?.Value is { } outline and < 9 ? outline + 1 : null;
        if (level is null && styleId is not null && context.HeadingStyles.TryGetValue(styleId, out var styleLevel))
        {
            level = styleLevel;
        }

        var numbering = properties?.NumberingProperties;
        var isList = (numbering is not null && numbering.NumberingId?.Val?.Value != 0)
            || (styleId is not null && context.ListStyles.Contains(styleId));
        if (level is null && !isList)
        {
            level = VisualHeadingLevel(paragraph, text, context.BodySize);
        }

        if (level is { } headingLevel && text.Length <= 300)
        {
            context.FlushList();
            context.Writer.Heading(text, headingLevel);
            return;
        }

        if (isList)
        {
            var indent = numbering?.NumberingLevelReference?.Val?.Value ?? 0;
            context.ListItems.Add($"{new string(' ', Math.Clamp(indent, 0, 8) * 2)}- {text}");
            return;
        }

        context.FlushList();
        context.Writer.Add(BlockKinds.Paragraph, text);
    }

    /// <summary>
    /// Many documents make headings by hand: a short line in a clearly larger font, all bold, or all capitals.
    /// Those count as headings too (larger font first), so their sections are not lost.
    /// </summary>
    private static int? VisualHeadingLevel(Paragraph paragraph, string text, int? bodySize)
    {
        if (text.Length > 120 || text[^1] is '.' or ',' or ';' or ':' || text.Count(char.IsLetter) < 3)
        {
            return null;
        }

        var runs = paragraph.Elements<Run>()
            .Where(r => r.Elements<Text>().Any(t => !string.IsNullOrWhiteSpace(t.Text)))
            .ToList();
        if (runs.Count == 0)
        {
            return null;
        }

        var size = runs.Max(FontSize);
        if (size is { } s && bodySize is { } body && s >= body * 1.3)
        {
            return s >= body * 1.8 ? 1 : 2;
        }

        if (runs.All(r => r.RunProperties?.Bold is { } bold && (bold.Val is null || bold.Val.Value)))
        {
            return 3;
        }

        var letters = text.Where(char.IsLetter).ToList();
        return text.Length <= 80 && letters.Count >= 4 && letters.All(char.IsUpper) ? 3 : null;
    }

    private static int? FontSize(Run run) =>
        int.TryParse(run.RunProperties?.FontSize?.Val?.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var size) ? size : null;

    private static int? BodyFontSize(Body body)
    {
        var weights = new Dictionary<int, long>();
        foreach (var run in body.Descendants<Run>())
        {
            if (FontSize(run) is { } size)
            {
                weights[size] = weights.GetValueOrDefault(size) + run.InnerText.Length;
            }
        }

        return weights.Count == 0 ? null : weights.MaxBy(w => w.Value).Key;
    }

    private static void WriteTable(Table table, Context context)
    {
        var rows = new List<string>();
        foreach (var row in table.Elements<TableRow>())
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            var cells = row.Elements<TableCell>().Select(cell => TextCleanup.CollapseWhitespace(CellText(cell))).ToList();
            while (cells.Count > 0 && cells[^1].Length == 0)
            {
                cells.RemoveAt(cells.Count - 1);
            }

            if (cells.Count > 0)
            {
                rows.Add(string.Join('\t', cells));
            }
        }

        context.Writer.Add(BlockKinds.Table, string.Join('\n', rows));
    }

    private static string CellText(OpenXmlElement cell)
    {
        var builder = new StringBuilder();
        foreach (var element in cell.ChildElements)
        {
            var text = element switch
            {
                Paragraph paragraph => ParagraphText(paragraph),
                Table nested => string.Join(' ', nested.Elements<TableRow>().SelectMany(r => r.Elements<TableCell>()).Select(CellText)),
                SdtBlock or SdtCell or CustomXmlBlock or CustomXmlCell => CellText(element),
                SdtContentBlock or SdtContentCell => CellText(element),
                _ => ""
            };
            if (text.Length > 0)
            {
                builder.Append(builder.Length > 0 ? " " : "").Append(text);
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// The visible text of a paragraph, text boxes included. Alternate-content fallbacks repeat what the choice
    /// already holds, and deleted revisions are not the document's text, so both are skipped.
    /// </summary>
    internal static string ParagraphText(OpenXmlElement paragraph)
    {
        var builder = new StringBuilder();
        Append(paragraph, builder, 0);
        return builder.ToString();

        static void Append(OpenXmlElement element, StringBuilder builder, int depth)
        {
            foreach (var child in element.ChildElements)
            {
                switch (child)
                {
                    case Text text:
                        builder.Append(text.Text);
                        break;
                    case TabChar or PositionalTab:
                        builder.Append('\t');
                        break;
                    case Break or CarriageReturn:
                        builder.Append('\n');
                        break;
                    case NoBreakHyphen:
                        builder.Append('-');
                        break;
                    case Paragraph when depth > 0:
                        // A paragraph inside a text box: keep it apart from the text around it.
                        builder.Append(' ');
                        Append(child, builder, depth + 1);
                        builder.Append(' ');
                        break;
                    case AlternateContentFallback or DeletedRun or DeletedText or FieldCode or ParagraphProperties or RunProperties:
                        break;
                    default:
                        if (child.HasChildren && depth < 64)
                        {
                            Append(child, builder, depth + 1);
                        }

                        break;
                }
            }
        }
    }

    /// <summary>Style id → heading level, from "heading N"/"Title" names or outline levels, following basedOn.</summary>
    private static Dictionary<string, int> StyleLevels(MainDocumentPart main)
    {
        var styles = main.StyleDefinitionsPart?.Styles?.Elements<Style>()
            .Where(s => s.StyleId?.Value is not null)
            .GroupBy(s => s.StyleId!.Value!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal) ?? [];

        var levels = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (id, style) in styles)
        {
            var current = style;
            for (var hop = 0; current is not null && hop < MaxStyleChain; hop++)
            {
                if (LevelOf(current) is { } level)
                {
                    levels[id] = level;
                    break;
                }

                current = current.BasedOn?.Val?.Value is { } parent ? styles.GetValueOrDefault(parent) : null;
            }
        }

        return levels;
    }

    private static int? LevelOf(Style style)
    {
        var name = style.StyleName?.Val?.Value?.Trim().ToLowerInvariant() ?? "";
        if (name.StartsWith("heading ", StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(8), NumberStyles.Integer, CultureInfo.InvariantCulture, out var level) && level is >= 1 and <= 9)
        {
            return level;
        }

        if (name == "title")
        {
            return 1;
        }

        return style.StyleParagraphProperties?.OutlineLevel?.Val?.Value is { } outline and < 9 ? outline + 1 : null;
    }

    private static HashSet<string> ListStyles(MainDocumentPart main) =>
        main.StyleDefinitionsPart?.Styles?.Elements<Style>()
            .Where(s => s.StyleId?.Value is not null
                && (s.StyleParagraphProperties?.NumberingProperties is not null
                    || (s.StyleName?.Val?.Value ?? "").StartsWith("List ", StringComparison.OrdinalIgnoreCase)
                       && !(s.StyleName?.Val?.Value ?? "").Equals("List Paragraph", StringComparison.OrdinalIgnoreCase)))
            .Select(s => s.StyleId!.Value!)
            .ToHashSet(StringComparer.Ordinal) ?? [];
}
