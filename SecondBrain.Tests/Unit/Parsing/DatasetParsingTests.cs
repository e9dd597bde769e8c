using System.Diagnostics;
using System.Text.Json;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Ingestion.Parsing;
using SecondBrain.Core.Integrations.Box;
using SecondBrain.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SecondBrain.Tests.Unit.Parsing;

/// <summary>Every real-world file in the shared datasets ends as text or as a failed document with a reason.</summary>
public sealed class DatasetParsingTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PerDocumentTimeout = TimeSpan.FromSeconds(20);

    private static DocumentParser Parser(ParsingSettings? settings = null) =>
        new(settings ?? new ParsingSettings { Timeout = PerDocumentTimeout });

    private static ParseInput InputFor(string path) =>
        new(Path.GetFileName(path), BoxContentTypes.ForName(path), File.ReadAllBytes(path), null);

    private static Task<ParseResult> ParseFileAsync(string relative, ParsingSettings? settings = null) =>
        Parser(settings).ParseAsync(InputFor(Datasets.Path(relative)), CancellationToken.None);

    [DatasetFact]
    public async Task Every_dataset_file_ends_as_text_or_a_clear_parse_failure_within_the_timeout()
    {
        var files = new[] { "documents", "email-fixtures-mikel-mail/spec/fixtures/emails" }
            .SelectMany(folder => Directory.EnumerateFiles(Datasets.Path(folder), "*", SearchOption.AllDirectories))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(files);

        var parser = Parser();
        var ok = new List<string>();
        var failed = new List<(string File, string Reason)>();
        var unexpected = new List<string>();
        var total = Stopwatch.StartNew();
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(Datasets.Root!, file);
            var watch = Stopwatch.StartNew();
            try
            {
                var result = await parser.ParseAsync(InputFor(file), CancellationToken.None);
                Assert.NotEmpty(result.Blocks);
                Assert.All(result.Blocks, block => Assert.False(string.IsNullOrWhiteSpace(block.Text)));
                Assert.All(result.Blocks, block => Assert.DoesNotContain('\0', block.Text));
                ok.Add(relative);
                output.WriteLine($"ok     {relative}: {result.Blocks.Count} blocks, {result.FullText.Length} chars, {watch.ElapsedMilliseconds} ms");
            }
            catch (DocumentParseException ex)
            {
                Assert.False(string.IsNullOrWhiteSpace(ex.Message), $"{relative} failed without a reason.");
                failed.Add((relative, ex.Message));
                output.WriteLine($"failed {relative}: {ex.Message} ({watch.ElapsedMilliseconds} ms)");
            }
            catch (Exception ex)
            {
                unexpected.Add($"{relative}: {ex.GetType().Name}: {ex.Message}");
            }

            Assert.True(watch.Elapsed < PerDocumentTimeout + TimeSpan.FromSeconds(5), $"{relative} took {watch.Elapsed}.");
        }

        output.WriteLine("");
        output.WriteLine($"{files.Count} files in {total.Elapsed.TotalSeconds:0.0} s: {ok.Count} ok, {failed.Count} failed, {unexpected.Count} unexpected exceptions");
        foreach (var group in failed.GroupBy(f => Category(f.Reason)).OrderByDescending(g => g.Count()))
        {
            output.WriteLine($"  {group.Count(),3} {group.Key}");
        }

        Assert.Empty(unexpected);
        Assert.True(ok.Count > failed.Count, "Most dataset files should parse.");
    }

    private static string Category(string reason) =>
        reason.Contains("encrypted", StringComparison.OrdinalIgnoreCase) || reason.Contains("password", StringComparison.OrdinalIgnoreCase) ? "encrypted"
        : reason.Contains("not a supported", StringComparison.OrdinalIgnoreCase) ? "unsupported type"
        : reason.Contains("OCR", StringComparison.Ordinal) ? "needs OCR"
        : reason.StartsWith(DocumentParser.EmptyReason[..^1], StringComparison.Ordinal) ? "empty"
        : reason.Contains("malformed", StringComparison.OrdinalIgnoreCase) || reason.Contains("damaged", StringComparison.Ordinal) ? "malformed or damaged"
        : reason.StartsWith("Parsing took longer", StringComparison.Ordinal) ? "timeout"
        : "other: " + reason;

    /// <summary>
    /// The dataset's copy of this file ends in 1.1 MB of zero bytes where its page tree was (no "/Type /Pages" object
    /// is left), so no reader can list its pages; it must fail as damaged rather than as a scan.
    /// </summary>
    private static readonly HashSet<string> KnownDamaged = ["017-unreadable-meta-data/unreadablemetadata.pdf"];

    [DatasetFact]
    public async Task Pdf_page_counts_and_encryption_match_the_pypdf_catalogue()
    {
        using var catalogue = JsonDocument.Parse(await File.ReadAllTextAsync(Datasets.Path("documents/pypdf-sample-files/files.json")));
        var checkedFiles = 0;
        foreach (var entry in catalogue.RootElement.GetProperty("data").EnumerateArray())
        {
            var path = entry.GetProperty("path").GetString()!;
            var relative = "documents/pypdf-sample-files/" + path;
            if (!File.Exists(Datasets.Path(relative)))
            {
                continue;
            }

            checkedFiles++;
            if (entry.TryGetProperty("encrypted", out var flag) && flag.GetBoolean())
            {
                var encrypted = await Assert.ThrowsAsync<DocumentParseException>(() => ParseFileAsync(relative));
                Assert.StartsWith("The PDF is encrypted", encrypted.Message);
                continue;
            }

            if (KnownDamaged.Contains(path))
            {
                var damaged = await Assert.ThrowsAsync<DocumentParseException>(() => ParseFileAsync(relative));
                Assert.Contains("damaged", damaged.Message);
                output.WriteLine($"{relative}: {damaged.Message}");
                continue;
            }

            // The PDF parser itself, so image-only PDFs (which the document parser fails for want of OCR) are counted too.
            var expectedPages = entry.GetProperty("pages").GetInt32();
            var outcome = PdfParser.Parse(await File.ReadAllBytesAsync(Datasets.Path(relative)), new ParsingSettings(), new ParsingLimits(), CancellationToken.None);
            Assert.True(expectedPages == outcome.Result.PageCount, $"{relative}: expected {expectedPages} pages, got {outcome.Result.PageCount}.");
            Assert.All(outcome.Result.Blocks, b => Assert.InRange(b.Page!.Value, 1, expectedPages));

            if (!outcome.HasTextLayer)
            {
                var scanned = await Assert.ThrowsAsync<DocumentParseException>(() => ParseFileAsync(relative));
                Assert.Contains("no text layer", scanned.Message);
                output.WriteLine($"{relative}: {scanned.Message}");
            }
        }

        Assert.True(checkedFiles >= 25, $"Only {checkedFiles} catalogued PDFs were found.");
    }

    [DatasetFact]
    public async Task Password_protected_pdf_fails_with_the_encryption_reason()
    {
        var failure = await Assert.ThrowsAsync<DocumentParseException>(
            () => ParseFileAsync("documents/unstructured-example-docs/example-docs/pdf/password.pdf"));
        Assert.StartsWith("The PDF is encrypted", failure.Message);
    }

    [DatasetFact]
    public async Task Multi_page_pdf_gives_paragraphs_with_their_pages()
    {
        var result = await ParseFileAsync("documents/pypdf-sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf");

        Assert.Equal(4, result.PageCount);
        Assert.Equal([1, 2, 3, 4], result.Blocks.Select(b => b.Page!.Value).Distinct().Order());
    }

    [DatasetFact]
    public async Task Cp1252_html_is_decoded_by_detection()
    {
        var result = await ParseFileAsync("documents/unstructured-example-docs/example-docs/fake-html-cp1252.html");

        Assert.Contains("Die schöne Frau", result.FullText);
        Assert.Contains("15,50 €", result.FullText);
        Assert.Contains(result.Blocks, b => b.Kind == BlockKinds.Heading && b.Text == "My First Heading");
        Assert.Contains(result.Blocks, b => b.Kind == BlockKinds.Paragraph && b.Text == "My first paragraph." && b.Section == "My First Heading");
    }

    [DatasetFact]
    public async Task Utf16_html_is_decoded_from_its_bom_despite_its_meta_charset()
    {
        var result = await ParseFileAsync("documents/unstructured-example-docs/example-docs/example-steelJIS-datasheet-utf-16.html");

        Assert.Contains("SNB22-3", result.Title);
        Assert.Contains("Chemical composition", result.FullText, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("adsbygoogle", result.FullText);
        Assert.DoesNotContain("font-family", result.FullText);
    }

    [DatasetFact]
    public async Task Html_scripts_and_styles_are_dropped()
    {
        var result = await ParseFileAsync("documents/unstructured-example-docs/example-docs/example-with-scripts.html");

        Assert.DoesNotContain("function(", result.FullText.Replace(" ", ""));
        Assert.DoesNotContain("<script", result.FullText, StringComparison.OrdinalIgnoreCase);
    }

    [DatasetFact]
    public async Task Docx_headings_become_heading_blocks_and_sections()
    {
        var result = await ParseFileAsync("documents/unstructured-example-docs/example-docs/handbook-1p.docx");

        // This handbook sets its headings by hand (large bold text, capitals), not with heading styles.
        Assert.Contains(result.Blocks, b => b.Kind == BlockKinds.Heading && b.Text == "CHAPTER 1" && b.Level == 1);
        var heading = Assert.Single(result.Blocks, b => b.Kind == BlockKinds.Heading && b.Text == "A. PURPOSE");
        Assert.Equal(BlockKinds.Paragraph, result.Blocks[result.Blocks.ToList().IndexOf(heading) + 1].Kind);
        Assert.Equal("A. PURPOSE", result.Blocks[result.Blocks.ToList().IndexOf(heading) + 1].Section);
    }

    [DatasetFact]
    public async Task Docx_tables_are_tab_separated_rows()
    {
        var result = await ParseFileAsync("documents/unstructured-example-docs/example-docs/tables-with-incomplete-rows.docx");

        Assert.Contains(result.Blocks, b => b.Kind == BlockKinds.Table && b.Text.Contains('\t'));
    }

    [DatasetFact]
    public async Task Pptx_gives_one_slide_block_per_slide()
    {
        foreach (var name in new[] { "sample-presentation.pptx", "fake-power-point-table.pptx", "group-shapes-nested.pptx" })
        {
            var result = await ParseFileAsync($"documents/unstructured-example-docs/example-docs/{name}");

            var slides = result.Blocks.Where(b => b.Kind == BlockKinds.Slide).ToList();
            Assert.NotNull(result.PageCount);
            Assert.True(slides.Count == result.PageCount, $"{name}: {slides.Count} slide blocks for {result.PageCount} slides.");
            Assert.Equal(Enumerable.Range(1, slides.Count), slides.Select(s => s.Page!.Value));
            Assert.All(slides, s => Assert.False(string.IsNullOrWhiteSpace(s.Section)));
        }
    }

    [DatasetFact]
    public async Task Pptx_tables_keep_their_cells()
    {
        var result = await ParseFileAsync("documents/unstructured-example-docs/example-docs/fake-power-point-table.pptx");

        Assert.Contains(result.Blocks, b => b.Kind == BlockKinds.Slide && b.Text.Contains('\t'));
    }

    [DatasetFact]
    public async Task Utf16_and_utf32_text_files_decode()
    {
        var utf16 = await ParseFileAsync("documents/unstructured-example-docs/example-docs/fake-text-utf-16-be.txt");
        var utf32 = await ParseFileAsync("documents/unstructured-example-docs/example-docs/fake-text-utf-32.txt");

        Assert.StartsWith("This is a test document", utf16.FullText);
        Assert.StartsWith("This is a test document", utf32.FullText);
    }

    [DatasetFact]
    public async Task Legacy_8bit_markdown_decodes_its_umlauts()
    {
        var result = await ParseFileAsync("documents/unstructured-example-docs/example-docs/umlauts-non-utf8.md");

        Assert.Contains(result.Blocks, b => b.Kind == BlockKinds.Heading && b.Text == "können");
        Assert.Contains("äöüß", result.FullText);
    }

    [DatasetFact]
    public async Task Empty_and_whitespace_files_fail_as_empty()
    {
        foreach (var name in new[] { "empty.txt", "fake-text-all-whitespace.txt", "eml/empty.eml" })
        {
            var failure = await Assert.ThrowsAsync<DocumentParseException>(
                () => ParseFileAsync($"documents/unstructured-example-docs/example-docs/{name}"));
            Assert.Equal(DocumentParser.EmptyReason, failure.Message);
        }
    }

    [DatasetFact]
    public async Task Legacy_and_foreign_formats_are_named_as_unsupported()
    {
        var expectations = new Dictionary<string, string>
        {
            ["duplicate-paragraphs.doc"] = ".doc",
            ["fake-power-point.ppt"] = ".ppt",
            ["fake-email.msg"] = ".msg",
            ["fake-doc.rtf"] = ".rtf",
            ["fake.odt"] = ".odt",
            ["winter-sports.epub"] = ".epub"
        };
        foreach (var (name, named) in expectations)
        {
            var failure = await Assert.ThrowsAsync<DocumentParseException>(
                () => ParseFileAsync($"documents/unstructured-example-docs/example-docs/{name}"));
            Assert.Contains("not a supported document type", failure.Message);
            Assert.Contains(named, failure.Message);
        }
    }

    [DatasetFact]
    public async Task Password_protected_xlsx_fails_as_encrypted()
    {
        var failure = await Assert.ThrowsAsync<DocumentParseException>(
            () => ParseFileAsync("documents/unstructured-example-docs/example-docs/password_protected.xlsx"));
        Assert.Contains("password-protected", failure.Message);
    }

    [DatasetFact]
    public async Task Utf16_email_is_read_as_an_email()
    {
        var result = await ParseFileAsync("documents/unstructured-example-docs/example-docs/eml/fake-email-utf-16-le.eml");

        Assert.Equal(BlockKinds.EmailHeader, result.Blocks[0].Kind);
        Assert.Contains(result.Blocks, b => b.Kind == BlockKinds.EmailBody);
        Assert.NotNull(result.Title);
    }

    [DatasetFact]
    public async Task Html_only_email_goes_through_the_html_parser()
    {
        var result = await ParseFileAsync("documents/unstructured-example-docs/example-docs/eml/mime-html-only.eml");

        Assert.Contains(result.Blocks, b => b.Kind == BlockKinds.EmailBody);
        Assert.DoesNotContain("<", string.Join("", result.Blocks.Where(b => b.Kind == BlockKinds.EmailBody).Select(b => b.Text)));
    }
}
