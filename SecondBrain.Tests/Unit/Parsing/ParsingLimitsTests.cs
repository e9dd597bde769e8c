using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Ingestion.Parsing;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace SecondBrain.Tests.Unit.Parsing;

/// <summary>
/// The parsing limits against the inputs they exist for: an Office part that inflates to hundreds of millions of
/// characters, one that claims it will, a package of too many parts, more text than a document may have, a PDF with
/// too much text; and the tenant settings against the deployment's ceilings.
/// </summary>
public sealed class ParsingLimitsTests
{
    private const string DocxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

    [Fact]
    public async Task A_docx_whose_body_inflates_to_200_million_characters_fails_with_the_part_and_limit_named()
    {
        var docx = Docx(200_000_000);
        Assert.True(docx.Length < 2 * 1024 * 1024, $"the bomb is {docx.Length} bytes compressed");

        var failure = await Assert.ThrowsAsync<DocumentParseException>(() => ParseAsync("bomb.docx", docx));

        Assert.Contains("word/document.xml", failure.Message);
        Assert.Contains("Ingestion:Parsing:MaxPartBytes", failure.Message);
    }

    [Fact]
    public async Task A_docx_part_below_its_byte_limit_but_above_the_character_limit_is_stopped_while_it_is_read()
    {
        // 30 million characters: under the 64 MB the zip header may claim, over the 16 million the SDK may read.
        var failure = await Assert.ThrowsAsync<DocumentParseException>(() => ParseAsync("long.docx", Docx(30_000_000)));

        Assert.Contains("more than 16000000 characters", failure.Message);
        Assert.Contains("Ingestion:Parsing:MaxPartCharacters", failure.Message);
    }

    [Fact]
    public async Task A_docx_within_the_limits_parses()
    {
        var result = await ParseAsync("fine.docx", Docx(50_000, word: "word "));
        Assert.InRange(result.FullText.Length, 49_990, 50_000);
    }

    [Fact]
    public async Task A_package_of_too_many_parts_is_refused()
    {
        var limits = new ParsingLimits { MaxPackageEntries = 20 };
        var failure = await Assert.ThrowsAsync<DocumentParseException>(() => ParseAsync("parts.docx", Docx(10, extraParts: 30), limits));
        Assert.Contains("Ingestion:Parsing:MaxPackageEntries", failure.Message);
    }

    [Fact]
    public async Task More_text_than_a_document_may_have_fails_with_the_limit_named()
    {
        var text = string.Concat(Enumerable.Repeat("All work and no play makes a very long document. ", 220_000));
        var failure = await Assert.ThrowsAsync<DocumentParseException>(() =>
            new DocumentParser().ParseAsync(new ParseInput("long.txt", "text/plain", null, text), CancellationToken.None));
        Assert.Contains("Ingestion:Parsing:MaxTextCharacters", failure.Message);
    }

    [Fact]
    public async Task A_pdf_with_more_text_than_allowed_stops_at_the_page_that_crosses_the_limit()
    {
        using var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        for (var p = 0; p < 5; p++)
        {
            var page = builder.AddPage(PageSize.A4);
            for (var line = 0; line < 40; line++)
            {
                page.AddText($"Page {p} line {line}: the quick brown fox jumps over the lazy dog.", 10, new PdfPoint(40, 800 - line * 18), font);
            }
        }

        var limits = new ParsingLimits { MaxTextCharacters = 3000 };
        var failure = await Assert.ThrowsAsync<DocumentParseException>(() =>
            new DocumentParser(null, null, limits).ParseAsync(new ParseInput("long.pdf", "application/pdf", builder.Build(), null), CancellationToken.None));
        Assert.StartsWith("The PDF has more than 3,000 characters", failure.Message);
    }

    [Fact]
    public void Settings_above_a_ceiling_are_refused_naming_the_ceiling_and_clamped_when_already_stored()
    {
        var limits = new ParsingLimits { MaxTimeout = TimeSpan.FromSeconds(20), MaxDocumentBytes = 8 * 1024 * 1024, MaxPdfPages = 100 };
        var greedy = new ParsingSettings { Timeout = TimeSpan.FromMinutes(10), MaxDocumentBytes = 1024L * 1024 * 1024, MaxPdfPages = 50_000 };

        var errors = ParsingSettingsStore.Validate(greedy, limits);

        Assert.Contains("Ingestion:Parsing:MaxTimeout", Assert.Single(errors["timeout"]));
        Assert.Contains("00:00:20", errors["timeout"][0]);
        Assert.Contains("Ingestion:Parsing:MaxDocumentBytes", Assert.Single(errors["maxDocumentBytes"]));
        Assert.Contains("Ingestion:Parsing:MaxPdfPages", Assert.Single(errors["maxPdfPages"]));
        Assert.Empty(ParsingSettingsStore.Validate(new ParsingSettings { Timeout = TimeSpan.FromSeconds(20), MaxDocumentBytes = 1024 * 1024, MaxPdfPages = 100 }, limits));

        var clamped = limits.Clamp(greedy);
        Assert.Equal(TimeSpan.FromSeconds(20), clamped.Timeout);
        Assert.Equal(8 * 1024 * 1024, clamped.MaxDocumentBytes);
        Assert.Equal(100, clamped.MaxPdfPages);
        Assert.Equal(TimeSpan.FromSeconds(20), new DocumentParser(greedy, null, limits).Settings.Timeout);
    }

    [Fact]
    public void A_parse_timeout_ceiling_not_below_the_ingestion_lease_is_refused_at_start()
    {
        static ParsingLimits Resolve(Dictionary<string, string?> settings)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
            var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
            services.AddOptions<IngestionOptions>().BindConfiguration(IngestionOptions.SectionName);
            services.AddDocumentParsing(configuration);
            return services.BuildServiceProvider().GetRequiredService<IOptions<ParsingLimits>>().Value;
        }

        Assert.Equal(TimeSpan.FromSeconds(45), Resolve([]).MaxTimeout);
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new()
        {
            ["Ingestion:LeaseDuration"] = "00:00:30",
            ["Ingestion:Parsing:MaxTimeout"] = "00:00:30"
        }));
        Assert.Contains("Ingestion:LeaseDuration", error.Message);
    }

    private static Task<ParseResult> ParseAsync(string fileName, byte[] content, ParsingLimits? limits = null) =>
        new DocumentParser(null, null, limits).ParseAsync(new ParseInput(fileName, DocxType, content, null), CancellationToken.None);

    /// <summary>A minimal docx written entry by entry: its body one paragraph of <paramref name="characters"/> characters.</summary>
    private static byte[] Docx(long characters, string word = "A", int extraParts = 0)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, "[Content_Types].xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>
                """);
            Write(zip, "_rels/.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>
                """);
            using (var body = new StreamWriter(zip.CreateEntry("word/document.xml", CompressionLevel.Optimal).Open(), new UTF8Encoding(false), 1 << 20))
            {
                body.Write("""<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>""");
                var block = string.Concat(Enumerable.Repeat(word, Math.Max(1, 64 * 1024 / word.Length)));
                var count = characters / word.Length;
                for (long written = 0; written < count; written += block.Length / word.Length)
                {
                    var take = (int)Math.Min(block.Length / word.Length, count - written) * word.Length;
                    body.Write(block.AsSpan(0, take));
                }

                body.Write("</w:t></w:r></w:p></w:body></w:document>");
            }

            for (var i = 0; i < extraParts; i++)
            {
                Write(zip, $"customXml/item{i}.xml", "<x/>");
            }
        }

        return buffer.ToArray();
    }

    private static void Write(ZipArchive zip, string path, string content)
    {
        using var writer = new StreamWriter(zip.CreateEntry(path).Open(), new UTF8Encoding(false));
        writer.Write(content);
    }
}
