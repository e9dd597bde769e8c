using System.Globalization;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>
/// .xlsx: one sheet block per worksheet, rows as tab-separated lines, shared strings resolved. Worksheets are read
/// with the streaming reader and the whole workbook is capped at <see cref="MaxCells"/> cells, so a huge export
/// cannot exhaust memory.
/// </summary>
internal static class SpreadsheetParser
{
    public const int MaxCells = 200_000;
    private const int MaxColumns = 512;

    public static ParseResult Parse(byte[] content, ParsingLimits limits, CancellationToken cancellationToken)
    {
        OfficeParsing.CheckPackage(content, limits);
        using var stream = new MemoryStream(content, writable: false);
        using var document = SpreadsheetDocument.Open(stream, false, OfficeParsing.OpenSettings(limits));
        var workbook = document.WorkbookPart ?? throw new DocumentParseException("The Excel workbook is malformed: it has no workbook part.");
        var shared = SharedStrings(workbook);
        var sheets = workbook.Workbook?.Sheets?.Elements<Sheet>().ToList() ?? [];

        var writer = new BlockWriter();
        var cells = 0;
        var truncated = false;
        foreach (var sheet in sheets)
        {
            if (truncated)
            {
                break;
            }

            var name = sheet.Name?.Value ?? $"Sheet {writer.Count + 1}";
            if (sheet.Id?.Value is not { } id || !workbook.TryGetPartById(id, out var part) || part is not WorksheetPart worksheet)
            {
                continue;
            }

            var text = new StringBuilder();
            using (var reader = OpenXmlReader.Create(worksheet))
            {
                while (reader.Read())
                {
                    if (reader.ElementType != typeof(Row) || !reader.IsStartElement)
                    {
                        continue;
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    var row = (Row)reader.LoadCurrentElement()!;
                    var line = RowText(row, shared, ref cells);
                    if (line.Length > 0)
                    {
                        text.Append(line).Append('\n');
                    }

                    if (cells >= MaxCells)
                    {
                        truncated = true;
                        text.Append(CultureInfo.InvariantCulture, $"[truncated: the workbook has more than {MaxCells} cells]");
                        break;
                    }
                }
            }

            writer.Add(BlockKinds.Sheet, text.ToString(), section: name);
        }

        var properties = document.PackageProperties;
        return new ParseResult(
            writer.Blocks,
            Title: OfficeParsing.NullIfBlank(properties.Title),
            Author: OfficeParsing.NullIfBlank(properties.Creator),
            Date: OfficeParsing.ToOffset(properties.Created ?? properties.Modified));
    }

    private static List<string> SharedStrings(WorkbookPart workbook)
    {
        var part = workbook.SharedStringTablePart;
        if (part is null)
        {
            return [];
        }

        var strings = new List<string>();
        using var reader = OpenXmlReader.Create(part);
        while (reader.Read())
        {
            if (reader.ElementType == typeof(SharedStringItem) && reader.IsStartElement)
            {
                var item = (SharedStringItem)reader.LoadCurrentElement()!;
                // Phonetic guides (ruby text) are not part of the value.
                strings.Add(item.Text?.Text ?? string.Concat(item.Elements<Run>().Select(r => r.Text?.Text)));
            }
        }

        return strings;
    }

    private static string RowText(Row row, List<string> shared, ref int cells)
    {
        var values = new List<string>();
        foreach (var cell in row.Elements<Cell>())
        {
            var value = CellText(cell, shared);
            if (value.Length == 0)
            {
                continue;
            }

            var column = ColumnIndex(cell.CellReference?.Value);
            if (column is { } index && index < MaxColumns)
            {
                while (values.Count < index)
                {
                    values.Add("");
                }
            }

            if (values.Count >= MaxColumns)
            {
                break;
            }

            values.Add(TextCleanup.CollapseWhitespace(value));
            cells++;
        }

        return values.Count == 0 ? "" : string.Join('\t', values);
    }

    private static string CellText(Cell cell, List<string> shared)
    {
        var type = cell.DataType?.Value;
        if (type == CellValues.InlineString)
        {
            return cell.InlineString?.InnerText ?? "";
        }

        var raw = cell.CellValue?.Text ?? "";
        if (raw.Length == 0)
        {
            return "";
        }

        if (type == CellValues.SharedString)
        {
            return int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var index) && index >= 0 && index < shared.Count
                ? shared[index]
                : "";
        }

        if (type == CellValues.Boolean)
        {
            return raw == "1" ? "TRUE" : "FALSE";
        }

        return raw;
    }

    /// <summary>"AB12" → 27 (zero-based column).</summary>
    private static int? ColumnIndex(string? reference)
    {
        if (string.IsNullOrEmpty(reference))
        {
            return null;
        }

        var index = 0;
        var letters = 0;
        foreach (var c in reference)
        {
            if (!char.IsAsciiLetter(c))
            {
                break;
            }

            index = index * 26 + (char.ToUpperInvariant(c) - 'A' + 1);
            letters++;
            if (letters > 3)
            {
                return null;
            }
        }

        return letters == 0 ? null : index - 1;
    }
}
