using System.Text;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.DocumentLayoutAnalysis;
using UglyToad.PdfPig.DocumentLayoutAnalysis.PageSegmenter;
using UglyToad.PdfPig.DocumentLayoutAnalysis.ReadingOrderDetector;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;
using UglyToad.PdfPig.DocumentLayoutAnalysis.WordExtractor;
using UglyToad.PdfPig.Exceptions;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>What the PDF parser found: text, or a document with pages but no text layer (a scan).</summary>
internal sealed record PdfOutcome(ParseResult Result, bool HasTextLayer, bool HasContent);

/// <summary>
/// PDF with PdfPig: per page, letters → words (nearest neighbour) → regions (recursive X-Y cut) → blocks
/// (Docstrum) → reading order (unsupervised detector), one paragraph block per text block; short blocks set in a
/// clearly larger font become headings. A page the layout analysis cannot handle falls back to its plain text.
/// </summary>
internal static class PdfParser
{
    public const string EncryptedReason = "The PDF is encrypted (password-protected) and cannot be read without its password.";

    private const double HeadingSizeRatio = 1.25;

    // One thread per document: the worker parses documents side by side, so nested parallelism only adds contention.
    private static readonly NearestNeighbourWordExtractor WordExtractor =
        new(new NearestNeighbourWordExtractor.NearestNeighbourWordExtractorOptions { MaxDegreeOfParallelism = 1 });

    private static readonly DocstrumBoundingBoxes Segmenter =
        new(new DocstrumBoundingBoxes.DocstrumBoundingBoxesOptions { MaxDegreeOfParallelism = 1 });

    public static PdfOutcome Parse(byte[] content, ParsingSettings settings, ParsingLimits limits, CancellationToken cancellationToken)
    {
        PdfOutcome outcome;
        try
        {
            outcome = ParseDocument(content, settings, limits, cancellationToken);
        }
        catch (Exception ex) when (ex is not (DocumentParseException or OperationCanceledException))
        {
            throw new DocumentParseException($"The PDF could not be read: {ex.Message}", ex);
        }

        // Neither text nor images: not a scan that OCR could help, but a blank file or one whose structure is lost.
        if (!outcome.HasContent)
        {
            throw new DocumentParseException("The PDF could not be read: its pages show neither text nor images (it is blank or damaged).");
        }

        return outcome;
    }

    private static PdfOutcome ParseDocument(byte[] content, ParsingSettings settings, ParsingLimits limits, CancellationToken cancellationToken)
    {
        PdfDocument document;
        try
        {
            document = PdfDocument.Open(content, new ParsingOptions { UseLenientParsing = true, SkipMissingFonts = true });
        }
        catch (PdfDocumentEncryptedException ex)
        {
            throw new DocumentParseException(EncryptedReason, ex);
        }

        using (document)
        {
            var pageCount = document.NumberOfPages;
            if (pageCount > settings.MaxPdfPages)
            {
                throw new DocumentParseException(
                    $"The PDF has {pageCount} pages, more than the limit of {settings.MaxPdfPages} pages per document.");
            }

            var writer = new BlockWriter();
            var textCharacters = 0;
            var images = 0;
            Exception? firstPageError = null;
            var failedPages = 0;
            for (var number = 1; number <= pageCount; number++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Page page;
                try
                {
                    page = document.GetPage(number);
                    images += page.NumberOfImages;
                }
                catch (PdfDocumentEncryptedException ex)
                {
                    throw new DocumentParseException(EncryptedReason, ex);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One broken page must not cost the rest of the document.
                    firstPageError ??= ex;
                    failedPages++;
                    continue;
                }

                textCharacters += WritePage(page, number, writer);
                if (textCharacters > limits.MaxTextCharacters)
                {
                    // Stop at once rather than lay out the remaining pages of a document that will be refused anyway.
                    throw new DocumentParseException(limits.TextTooLong("PDF"));
                }
            }

            if (failedPages == pageCount && firstPageError is not null)
            {
                throw new InvalidDataException(firstPageError.Message, firstPageError);
            }

            var (title, author, date) = Metadata(document);
            var result = new ParseResult(writer.Blocks, title, author, date, pageCount);
            return new PdfOutcome(result, textCharacters > 0, textCharacters > 0 || images > 0);
        }
    }

    /// <summary>Writes the page's blocks; returns how many visible characters it had.</summary>
    private static int WritePage(Page page, int number, BlockWriter writer)
    {
        var letters = page.Letters;
        if (letters.Count == 0)
        {
            return 0;
        }

        IReadOnlyList<(string Text, double Size, int Lines)> blocks;
        try
        {
            blocks = LayoutBlocks(letters, page.Width);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            blocks = [];
        }

        if (blocks.Count == 0)
        {
            var text = TextCleanup.Clean(FallbackText(page));
            foreach (var paragraph in TextCleanup.SplitParagraphs(text))
            {
                writer.Add(BlockKinds.Paragraph, paragraph, page: number);
            }

            return CountVisible(text);
        }

        var bodySize = MedianSize(letters);
        var visible = 0;
        foreach (var (text, size, lines) in blocks)
        {
            var clean = TextCleanup.Clean(text);
            var count = CountVisible(clean);
            if (count == 0)
            {
                continue;
            }

            visible += count;
            if (IsHeading(clean, size, lines, bodySize, count))
            {
                var ratio = size / bodySize;
                writer.Heading(clean, ratio >= 1.8 ? 1 : ratio >= 1.5 ? 2 : 3, number);
            }
            else
            {
                writer.Add(BlockKinds.Paragraph, clean, page: number);
            }
        }

        return visible;
    }

    private static List<(string Text, double Size, int Lines)> LayoutBlocks(IReadOnlyList<Letter> letters, double pageWidth)
    {
        var words = WordExtractor.GetWords(letters).ToList();
        if (words.Count == 0)
        {
            return [];
        }

        // Docstrum alone joins the lines of neighbouring columns when justified text has wide word gaps; cutting
        // the page into regions along its white space first (X-Y cut) keeps columns apart, and Docstrum then finds
        // the paragraphs within each region. Regions narrower than a quarter page are not cut further, or
        // table-of-contents leaders and figure labels fall apart into single words.
        var cutter = new RecursiveXYCut(new RecursiveXYCut.RecursiveXYCutOptions { MinimumWidth = pageWidth / 4, MaxDegreeOfParallelism = 1 });
        var regions = UnsupervisedReadingOrderDetector.Instance.Get(cutter.GetBlocks(words).ToList())
            .OrderBy(r => r.ReadingOrder);
        var ordered = new List<TextBlock>();
        foreach (var region in regions)
        {
            var blocks = Segmenter.GetBlocks(region.TextLines.SelectMany(l => l.Words).ToList());
            ordered.AddRange(UnsupervisedReadingOrderDetector.Instance.Get(blocks.ToList()).OrderBy(b => b.ReadingOrder));
        }

        var result = new List<(string, double, int)>();
        foreach (var block in ordered)
        {
            var blockLetters = block.TextLines.SelectMany(l => l.Words).SelectMany(w => w.Letters).ToList();
            var size = blockLetters.Count == 0 ? 0 : blockLetters.Average(l => l.PointSize);
            result.Add((JoinLines(block), size, block.TextLines.Count));
        }

        return result;
    }

    /// <summary>Content-order text keeps the spaces between words that the raw page text often lacks.</summary>
    private static string FallbackText(Page page)
    {
        try
        {
            return ContentOrderTextExtractor.GetText(page, addDoubleNewline: true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return page.Text;
        }
    }

    /// <summary>Lines of a block become one paragraph; a word hyphenated across a line break is joined again.</summary>
    private static string JoinLines(TextBlock block)
    {
        var builder = new StringBuilder();
        foreach (var line in block.TextLines)
        {
            var text = line.Text.Trim();
            if (text.Length == 0)
            {
                continue;
            }

            if (builder.Length > 1 && builder[^1] == '-' && char.IsLetter(builder[^2]) && char.IsLower(text[0]))
            {
                builder.Length--;
            }
            else if (builder.Length > 0)
            {
                builder.Append(' ');
            }

            builder.Append(text);
        }

        return builder.ToString();
    }

    private static bool IsHeading(string text, double size, int lines, double bodySize, int visible) =>
        bodySize > 0
        && size >= bodySize * HeadingSizeRatio
        && lines <= 2
        && text.Length <= 150
        && visible >= 3
        && text.Count(char.IsLetter) >= 3
        && !text.EndsWith('.');

    private static double MedianSize(IReadOnlyList<Letter> letters)
    {
        var sizes = letters.Where(l => !string.IsNullOrWhiteSpace(l.Value)).Select(l => l.PointSize).Order().ToList();
        return sizes.Count == 0 ? 0 : sizes[sizes.Count / 2];
    }

    private static int CountVisible(string text)
    {
        var count = 0;
        foreach (var c in text)
        {
            if (!char.IsWhiteSpace(c) && c != '\uFFFD' && !char.IsControl(c))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Metadata is nice to have; a malformed info dictionary must not fail the document.</summary>
    private static (string? Title, string? Author, DateTimeOffset? Date) Metadata(PdfDocument document)
    {
        try
        {
            var info = document.Information;
            DateTimeOffset? date = null;
            try
            {
                date = info.GetCreatedDateTimeOffset() ?? info.GetModifiedDateTimeOffset();
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
            {
            }

            return (Clean(info.Title), Clean(info.Author), date);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return (null, null, null);
        }

        static string? Clean(string? value) => TextCleanup.Clean(value) is { Length: > 0 } clean ? clean : null;
    }
}
