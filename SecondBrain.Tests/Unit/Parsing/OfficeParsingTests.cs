using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Ingestion.Parsing;
using S = DocumentFormat.OpenXml.Spreadsheet;
using W = DocumentFormat.OpenXml.Wordprocessing;

namespace SecondBrain.Tests.Unit.Parsing;

/// <summary>Office files built here with the Open XML SDK, so the expected structure is known exactly.</summary>
public sealed class OfficeParsingTests
{
    private const string DocxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    private const string XlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    private static Task<ParseResult> ParseAsync(string fileName, string contentType, byte[] content) =>
        new DocumentParser().ParseAsync(new ParseInput(fileName, contentType, content, null), CancellationToken.None);

    [Fact]
    public async Task Docx_heading_styles_lists_and_tables_keep_their_structure()
    {
        var result = await ParseAsync("plan.docx", DocxType, BuildDocx());

        Assert.Equal("Release plan", result.Title);
        Assert.Equal(
            [
                (BlockKinds.Heading, "Release plan", 1),
                (BlockKinds.Paragraph, "We ship in May.", 0),
                (BlockKinds.Heading, "Owners", 2),
                (BlockKinds.List, "- Alice runs QA\n  - Bob backs her up", 0),
                (BlockKinds.Table, "Service\tOwner\nBilling\tAlice", 0)
            ],
            result.Blocks.Select(b => (b.Kind, b.Text, b.Level)));
        Assert.Equal(["Release plan", "Release plan", "Owners", "Owners", "Owners"], result.Blocks.Select(b => b.Section));
    }

    [Fact]
    public async Task Xlsx_gives_one_sheet_block_per_sheet_with_shared_strings_resolved()
    {
        var result = await ParseAsync("budget.xlsx", XlsxType, BuildXlsx());

        Assert.Equal(
            [(BlockKinds.Sheet, "Budget", "Item\tAmount\nTravel\t1200\nHardware\t\t(none)"), (BlockKinds.Sheet, "Notes", "Approved\tTRUE")],
            result.Blocks.Select(b => (b.Kind, b.Section!, b.Text)));
    }

    [Fact]
    public async Task A_zip_that_is_no_office_package_fails_with_the_reason()
    {
        using var buffer = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(buffer, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            using var writer = new StreamWriter(zip.CreateEntry("readme.txt").Open());
            await writer.WriteAsync("not a document");
        }

        var failure = await Assert.ThrowsAsync<DocumentParseException>(() => ParseAsync("report.docx", DocxType, buffer.ToArray()));

        Assert.StartsWith("The Word document is malformed:", failure.Message);
    }

    private static byte[] BuildDocx()
    {
        using var buffer = new MemoryStream();
        using (var document = WordprocessingDocument.Create(buffer, WordprocessingDocumentType.Document))
        {
            var main = document.AddMainDocumentPart();
            var styles = main.AddNewPart<StyleDefinitionsPart>();
            styles.Styles = new W.Styles(
                Style("Heading1", "heading 1"),
                Style("Heading2", "heading 2"));

            var numbering = main.AddNewPart<NumberingDefinitionsPart>();
            numbering.Numbering = new W.Numbering(
                new W.AbstractNum(new W.Level(new W.NumberingFormat { Val = W.NumberFormatValues.Bullet }) { LevelIndex = 0 }) { AbstractNumberId = 1 },
                new W.NumberingInstance(new W.AbstractNumId { Val = 1 }) { NumberID = 1 });

            main.Document = new W.Document(new W.Body(
                Paragraph("Release plan", "Heading1"),
                Paragraph("We ship in May."),
                Paragraph("Owners", "Heading2"),
                ListItem("Alice runs QA", 0),
                ListItem("Bob backs her up", 1),
                new W.Table(
                    Row("Service", "Owner"),
                    Row("Billing", "Alice"))));
        }

        return buffer.ToArray();

        static W.Style Style(string id, string name) =>
            new(new W.StyleName { Val = name }) { Type = W.StyleValues.Paragraph, StyleId = id };

        static W.Paragraph Paragraph(string text, string? style = null)
        {
            var paragraph = new W.Paragraph(new W.Run(new W.Text(text)));
            if (style is not null)
            {
                paragraph.PrependChild(new W.ParagraphProperties(new W.ParagraphStyleId { Val = style }));
            }

            return paragraph;
        }

        static W.Paragraph ListItem(string text, int level) =>
            new(
                new W.ParagraphProperties(new W.NumberingProperties(new W.NumberingLevelReference { Val = level }, new W.NumberingId { Val = 1 })),
                new W.Run(new W.Text(text)));

        static W.TableRow Row(params string[] cells) =>
            new(cells.Select(cell => new W.TableCell(new W.Paragraph(new W.Run(new W.Text(cell))))));
    }

    private static byte[] BuildXlsx()
    {
        using var buffer = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(buffer, SpreadsheetDocumentType.Workbook))
        {
            var workbook = document.AddWorkbookPart();
            workbook.Workbook = new S.Workbook();
            var shared = workbook.AddNewPart<SharedStringTablePart>();
            shared.SharedStringTable = new S.SharedStringTable(
                new S.SharedStringItem(new S.Text("Item")),
                new S.SharedStringItem(new S.Text("Amount")),
                new S.SharedStringItem(new S.Text("Travel")),
                new S.SharedStringItem(new S.Run(new S.Text("Hard")), new S.Run(new S.Text("ware"))));

            var budget = workbook.AddNewPart<WorksheetPart>();
            budget.Worksheet = new S.Worksheet(new S.SheetData(
                new S.Row(SharedCell("A1", 0), SharedCell("B1", 1)),
                new S.Row(SharedCell("A2", 2), new S.Cell { CellReference = "B2", CellValue = new S.CellValue("1200") }),
                new S.Row(SharedCell("A3", 3), new S.Cell
                {
                    CellReference = "C3",
                    DataType = S.CellValues.InlineString,
                    InlineString = new S.InlineString(new S.Text("(none)"))
                })));

            var notes = workbook.AddNewPart<WorksheetPart>();
            notes.Worksheet = new S.Worksheet(new S.SheetData(
                new S.Row(
                    new S.Cell { CellReference = "A1", DataType = S.CellValues.String, CellValue = new S.CellValue("Approved") },
                    new S.Cell { CellReference = "B1", DataType = S.CellValues.Boolean, CellValue = new S.CellValue("1") })));

            workbook.Workbook.AppendChild(new S.Sheets(
                new S.Sheet { Name = "Budget", SheetId = 1, Id = workbook.GetIdOfPart(budget) },
                new S.Sheet { Name = "Notes", SheetId = 2, Id = workbook.GetIdOfPart(notes) }));
        }

        return buffer.ToArray();

        static S.Cell SharedCell(string reference, int index) =>
            new() { CellReference = reference, DataType = S.CellValues.SharedString, CellValue = new S.CellValue(index.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
    }
}
