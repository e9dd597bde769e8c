using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Ingestion.Parsing;
using SecondBrain.TestSupport.StandIns;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Writer;

namespace SecondBrain.Tests.Unit.Parsing;

/// <summary>
/// The Azure Document Intelligence client against a stand-in speaking the REST API, registered as the services
/// register it (with the standard resilience handler every client gets from ServiceDefaults), and through the
/// document parser for scanned PDFs and images.
/// </summary>
public sealed class AzureDocumentIntelligenceTests : IDisposable
{
    private readonly DocumentIntelligenceStandIn _standIn = new();
    private readonly List<ServiceProvider> _providers = [];

    public void Dispose()
    {
        foreach (var provider in _providers)
        {
            provider.Dispose();
        }

        _standIn.Dispose();
    }

    [Fact]
    public async Task Paragraphs_become_blocks_with_pages_and_headings_and_page_furniture_is_dropped()
    {
        var result = await Client().AnalyzeAsync("scan.pdf", "application/pdf", ScannedPdf(), CancellationToken.None);

        Assert.Equal(2, result.PageCount);
        Assert.Equal(
        [
            new DocumentBlock(BlockKinds.Heading, "Turbine Inspection Report", "Turbine Inspection Report", 1, 1),
            new DocumentBlock(BlockKinds.Paragraph,
                "The Zanzibar wind farm was inspected in March. All twelve turbines were climbed and their blades photographed from the nacelle.",
                "Turbine Inspection Report", 1),
            new DocumentBlock(BlockKinds.Heading, "Findings", "Findings", 2, 2),
            new DocumentBlock(BlockKinds.Paragraph, "Blade three of turbine seven shows leading-edge erosion and needs repair before winter.", "Findings", 2),
            new DocumentBlock(BlockKinds.Table, "Turbine\tCondition\n7\tErosion\n9\tGood", "Findings", 2),
            new DocumentBlock(BlockKinds.Paragraph, "Inspected by drone on 4 March 2025.", "Findings", 2)
        ], result.Blocks);
        Assert.DoesNotContain(result.Blocks, b => b.Text.Contains("Confidential", StringComparison.Ordinal) || b.Text.Contains("Page 2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_requests_carry_the_key_the_model_the_api_version_and_the_file()
    {
        var pdf = ScannedPdf();
        await Client(model: "prebuilt-read").AnalyzeAsync("scan.pdf", "application/pdf", pdf, CancellationToken.None);
        await Client().AnalyzeAsync("photo.png", "image/png; name=photo.png", Png(8, 8), CancellationToken.None);
        await Client().AnalyzeAsync("download", "binary/octet-stream", pdf, CancellationToken.None);

        var requests = _standIn.AnalyzeRequests;
        Assert.Equal(["prebuilt-read", "prebuilt-layout", "prebuilt-layout"], requests.Select(r => r.Model));
        Assert.All(requests, r => Assert.Equal(AzureDocumentIntelligence.ApiVersion, r.ApiVersion));
        Assert.Equal(["application/pdf", "image/png", "application/octet-stream"], requests.Select(r => r.ContentType));
        Assert.Equal(pdf, requests[0].Body);

        // Every call, the polls included, carried the key: one analyze and two polls per document.
        Assert.Equal(9, _standIn.Requests.Count);
        Assert.All(_standIn.Requests, r => Assert.Equal(_standIn.Key, r.Key));
        Assert.Equal(6, _standIn.Requests.Count(r => r.Method == "GET" && r.Path.Contains("/analyzeResults/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Polling_waits_as_long_as_Retry_After_says()
    {
        _standIn.RetryAfterSeconds = 1;

        await Client().AnalyzeAsync("scan.png", "image/png", Png(8, 8), CancellationToken.None);

        var times = _standIn.Requests.Select(r => r.At).ToList();
        Assert.Equal(3, times.Count);
        Assert.True(times[1] - times[0] >= TimeSpan.FromMilliseconds(900), $"first poll after {(times[1] - times[0]).TotalMilliseconds} ms");
        Assert.True(times[2] - times[1] >= TimeSpan.FromMilliseconds(900), $"second poll after {(times[2] - times[1]).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task A_bad_key_fails_with_a_reason_naming_the_key()
    {
        var failure = await Assert.ThrowsAsync<DocumentParseException>(
            () => Client(key: "wrong-key").AnalyzeAsync("scan.png", "image/png", Png(8, 8), CancellationToken.None));

        Assert.Contains("refused the key (401", failure.Message);
        Assert.Contains("ConnectionStrings:documentintelligence", failure.Message);
        Assert.Contains("invalid subscription key", failure.Message);
        Assert.DoesNotContain("wrong-key", failure.Message);
        Assert.Single(_standIn.Requests);
    }

    [Fact]
    public async Task A_failed_analysis_reports_the_service_s_reason()
    {
        _standIn.AnalysisFailure = ("InvalidContent", "The file is corrupted or format is unsupported.");

        var failure = await Assert.ThrowsAsync<DocumentParseException>(
            () => Client().AnalyzeAsync("scan.pdf", "application/pdf", ScannedPdf(), CancellationToken.None));

        Assert.Equal("Document Intelligence could not analyse the document (status failed): The file is corrupted or format is unsupported. (InvalidContent)", failure.Message);
    }

    [Fact]
    public async Task Refused_content_and_an_unknown_model_fail_with_the_service_s_code_and_message()
    {
        _standIn.ContentRejection = ("InvalidContent", "The file is corrupted or format is unsupported. Refer to documentation for the list of supported formats.");
        var refused = await Assert.ThrowsAsync<DocumentParseException>(
            () => Client().AnalyzeAsync("scan.png", "image/png", Png(8, 8), CancellationToken.None));
        Assert.StartsWith("Document Intelligence refused the document (400 ", refused.Message);
        Assert.EndsWith("The file is corrupted or format is unsupported. Refer to documentation for the list of supported formats. (InvalidContent)", refused.Message);

        var unknown = await Assert.ThrowsAsync<DocumentParseException>(
            () => Client(model: "prebuilt-nothing").AnalyzeAsync("scan.png", "image/png", Png(8, 8), CancellationToken.None));
        Assert.Contains("no model 'prebuilt-nothing'", unknown.Message);
        Assert.Contains("(ModelNotFound)", unknown.Message);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task Throttling_and_server_errors_are_retried(int status)
    {
        _standIn.FailNextRequests(2, status);

        var result = await Client().AnalyzeAsync("scan.png", "image/png", Png(8, 8), CancellationToken.None);

        Assert.Contains("Zanzibar", result.FullText);
        Assert.Equal(3, _standIn.Requests.Count(r => r.Method == "POST"));
    }

    [Fact]
    public async Task Throttling_that_does_not_stop_fails_after_the_configured_attempts_and_no_more()
    {
        _standIn.FailNextRequests(100, 429);

        var failure = await Assert.ThrowsAsync<DocumentParseException>(
            () => Client(maxAttempts: 3).AnalyzeAsync("scan.png", "image/png", Png(8, 8), CancellationToken.None));

        Assert.Contains("kept throttling the requests (429", failure.Message);
        Assert.Contains("exceeded rate limit", failure.Message);
        // Three, not three times the standard handler's four: the client's retries are the only ones.
        Assert.Equal(3, _standIn.Requests.Count);
    }

    [Fact]
    public async Task Polls_are_retried_too()
    {
        _standIn.FailNextRequests(2, 503, pollsOnly: true);

        var result = await Client().AnalyzeAsync("scan.png", "image/png", Png(8, 8), CancellationToken.None);

        Assert.Contains("Zanzibar", result.FullText);
        Assert.Equal(["POST", "GET", "GET", "GET", "GET"], _standIn.Requests.Select(r => r.Method));
    }

    [Fact]
    public async Task Lines_are_used_when_there_are_no_paragraphs()
    {
        _standIn.LinesOnly = true;

        var result = await Client(model: "prebuilt-read").AnalyzeAsync("scan.png", "image/png", Png(8, 8), CancellationToken.None);

        Assert.Equal([1, 2], result.Blocks.Select(b => b.Page!.Value));
        Assert.All(result.Blocks, b => Assert.Equal(BlockKinds.Paragraph, b.Kind));
        Assert.Contains("Turbine Inspection Report\nThe Zanzibar wind farm", result.Blocks[0].Text);
        Assert.Contains("Findings", result.Blocks[1].Text);
    }

    [Fact]
    public async Task A_document_without_text_fails_with_no_text_recognised()
    {
        _standIn.Document = [new DocumentIntelligenceStandIn.Paragraph(1, "3", "pageNumber"), new DocumentIntelligenceStandIn.Paragraph(2, "ACME", "pageHeader")];

        var failure = await Assert.ThrowsAsync<DocumentParseException>(
            () => Client().AnalyzeAsync("blank.pdf", "application/pdf", ScannedPdf(), CancellationToken.None));

        Assert.Equal("No text recognised: Document Intelligence (OCR) found no text in the document on its 2 pages.", failure.Message);
    }

    [Fact]
    public async Task The_caller_s_token_ends_an_analysis_that_never_finishes()
    {
        _standIn.RunningPolls = int.MaxValue;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Client().AnalyzeAsync("scan.png", "image/png", Png(8, 8), timeout.Token));
        Assert.True(_standIn.Polls.Count >= 2);
    }

    [Fact]
    public void The_connection_string_selects_the_client()
    {
        var connection = DocumentIntelligenceConnection.TryParse("Endpoint=https://example.cognitiveservices.azure.com/;Key=secret;Model=prebuilt-read")!;
        Assert.Equal(new Uri("https://example.cognitiveservices.azure.com/"), connection.Endpoint);
        Assert.Equal("secret", connection.Key);
        Assert.Equal("prebuilt-read", connection.Model);
        Assert.DoesNotContain("secret", connection.ToString());
        Assert.Equal(DocumentIntelligenceConnection.DefaultModel, DocumentIntelligenceConnection.TryParse("Endpoint=https://x/;Key=k")!.Model);
        Assert.Null(DocumentIntelligenceConnection.TryParse("Endpoint=https://x/"));
        Assert.Null(DocumentIntelligenceConnection.TryParse("Key=k"));
        Assert.Null(DocumentIntelligenceConnection.TryParse(""));

        Assert.IsType<AzureDocumentIntelligence>(Client());
        var unconfigured = Services(null).GetRequiredService<IDocumentIntelligence>();
        Assert.Same(NullDocumentIntelligence.Instance, unconfigured);
        Assert.False(unconfigured.IsConfigured);
    }

    [Theory]
    [InlineData("scan.pdf", "application/pdf")]
    [InlineData("scan.png", "image/png")]
    public async Task Scanned_files_are_read_through_document_intelligence_when_the_tenant_allows_it(string fileName, string contentType)
    {
        var content = fileName.EndsWith(".pdf", StringComparison.Ordinal) ? ScannedPdf() : Png(16, 16);
        var input = new ParseInput(fileName, contentType, content, null);

        var result = await new DocumentParser(new ParsingSettings(), Client()).ParseAsync(input, CancellationToken.None);

        Assert.Equal("Turbine Inspection Report", result.Title);
        Assert.Equal(2, result.PageCount);
        Assert.Contains("Zanzibar wind farm", result.FullText);
        Assert.Equal(content, Assert.Single(_standIn.AnalyzeRequests).Body);

        var turnedOff = await Assert.ThrowsAsync<DocumentParseException>(
            () => new DocumentParser(new ParsingSettings { UseDocumentIntelligence = false }, Client()).ParseAsync(input, CancellationToken.None));
        Assert.Contains("needs OCR", turnedOff.Message);
        Assert.Contains("turned off", turnedOff.Message);

        var notConfigured = await Assert.ThrowsAsync<DocumentParseException>(
            () => new DocumentParser(new ParsingSettings(), Services(null).GetRequiredService<IDocumentIntelligence>()).ParseAsync(input, CancellationToken.None));
        Assert.Contains("needs OCR", notConfigured.Message);
        Assert.Contains("not configured", notConfigured.Message);
        Assert.Single(_standIn.AnalyzeRequests);
    }

    [Fact]
    public async Task The_parse_deadline_bounds_the_analysis()
    {
        _standIn.RunningPolls = int.MaxValue;
        var parser = new DocumentParser(new ParsingSettings { Timeout = TimeSpan.FromMilliseconds(500) }, Client());

        var failure = await Assert.ThrowsAsync<DocumentParseException>(
            () => parser.ParseAsync(new ParseInput("scan.pdf", "application/pdf", ScannedPdf(), null), CancellationToken.None));

        Assert.StartsWith("Parsing took longer than 500 ms", failure.Message);
    }

    private IDocumentIntelligence Client(string? key = null, string? model = null, int maxAttempts = 4) =>
        Services(_standIn.ConnectionString(key, model), maxAttempts).GetRequiredService<IDocumentIntelligence>();

    private ServiceProvider Services(string? connectionString, int maxAttempts = 4)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Ingestion:DocumentIntelligence:PollInterval"] = "00:00:00.050",
            ["Ingestion:DocumentIntelligence:RetryDelay"] = "00:00:00.010",
            ["Ingestion:DocumentIntelligence:MaxAttempts"] = maxAttempts.ToString(CultureInfo.InvariantCulture)
        };
        if (connectionString is not null)
        {
            settings["ConnectionStrings:documentintelligence"] = connectionString;
        }

        var services = new ServiceCollection();
        services.AddLogging();
        // What ServiceDefaults gives every client; the registration must take it off this one.
        services.ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler());
        services.AddDocumentParsing(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider;
    }

    /// <summary>A PDF whose only page is a picture: what a scanner produces, with no text layer.</summary>
    public static byte[] ScannedPdf()
    {
        using var builder = new PdfDocumentBuilder();
        var page = builder.AddPage(PageSize.A4);
        page.AddPng(Png(64, 64), new PdfRectangle(50, 50, 545, 792));
        return builder.Build();
    }

    /// <summary>A grey-striped RGB PNG, written by hand so the tests need no imaging library.</summary>
    public static byte[] Png(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bits per sample
        header[9] = 2; // RGB
        WriteChunk(png, "IHDR", header);

        using var pixels = new MemoryStream();
        using (var deflate = new ZLibStream(pixels, CompressionLevel.Fastest, leaveOpen: true))
        {
            for (var y = 0; y < height; y++)
            {
                deflate.WriteByte(0); // no filter
                var shade = (byte)(y % 4 < 2 ? 40 : 220);
                for (var x = 0; x < width; x++)
                {
                    deflate.Write([shade, shade, shade]);
                }
            }
        }

        WriteChunk(png, "IDAT", pixels.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typeAndData);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        png.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
