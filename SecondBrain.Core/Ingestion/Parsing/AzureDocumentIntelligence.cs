using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>
/// Azure Document Intelligence through its REST API (<see cref="ApiVersion"/>): the file goes to
/// <c>documentModels/{model}:analyze</c>, the operation named by <c>Operation-Location</c> is polled until it ends,
/// and the recognised paragraphs become blocks as the other parsers produce them: titles and section headings are
/// headings, page headers, footers and page numbers are dropped, tables are table blocks, every block has its page.
/// Every failure is a <see cref="DocumentParseException"/> whose reason says what the service objected to.
/// </summary>
/// <remarks>
/// Retries are done here, and the standard resilience handler is removed from this client at registration. Polling
/// is itself a loop paced by <c>Retry-After</c>, so one place handles every wait; the standard handler's retries would
/// multiply with these, and its 10 s attempt timeout would cut off the upload of a large scan, while the caller's
/// token (the per-document parse deadline) already bounds the whole analysis.
/// </remarks>
public sealed class AzureDocumentIntelligence : IDocumentIntelligence
{
    public const string ApiVersion = "2024-11-30";
    public const string KeyHeader = "Ocp-Apim-Subscription-Key";

    // A longer Retry-After means an exhausted quota rather than a burst: failing with that reason beats waiting
    // until the parse deadline and reporting a timeout.
    private static readonly TimeSpan MaxRetryWait = TimeSpan.FromMinutes(1);

    // The types the service takes as a body. Any other label (a store's generic one, or a wrong one) is sent as
    // octet-stream, which the service sniffs, rather than a type it would refuse.
    private static readonly HashSet<string> ServiceContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "application/pdf", "image/jpeg", "image/png", "image/bmp", "image/tiff", "image/heif"
    };

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly HttpClient _http;
    private readonly DocumentIntelligenceConnection _connection;
    private readonly DocumentIntelligenceOptions _options;
    private readonly ILogger<AzureDocumentIntelligence> _logger;

    public AzureDocumentIntelligence(
        HttpClient http,
        DocumentIntelligenceConnection connection,
        IOptions<DocumentIntelligenceOptions> options,
        ILogger<AzureDocumentIntelligence> logger)
    {
        _http = http;
        _connection = connection;
        _options = options.Value;
        _logger = logger;
    }

    public bool IsConfigured => true;

    public async Task<ParseResult> AnalyzeAsync(string fileName, string contentType, byte[] content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var started = Stopwatch.GetTimestamp();
        var (operation, wait) = await StartAsync(contentType, content, cancellationToken).ConfigureAwait(false);
        var analysis = await PollAsync(operation, wait, cancellationToken).ConfigureAwait(false);
        var result = ToParseResult(analysis);
        _logger.LogDebug("Document Intelligence ({Model}) read {Pages} page(s) into {Blocks} block(s) in {Elapsed} ms",
            _connection.Model, result.PageCount, result.Blocks.Count, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return result;
    }

    private async Task<(Uri Operation, TimeSpan Wait)> StartAsync(string contentType, byte[] content, CancellationToken cancellationToken)
    {
        var analyze = new Uri(string.Create(CultureInfo.InvariantCulture,
            $"{_connection.Endpoint.AbsoluteUri.TrimEnd('/')}/documentintelligence/documentModels/{Uri.EscapeDataString(_connection.Model)}:analyze?api-version={ApiVersion}"));
        var bodyType = BodyType(contentType);
        using var response = await SendAsync(() =>
        {
            var body = new ByteArrayContent(content);
            body.Headers.ContentType = new MediaTypeHeaderValue(bodyType);
            return new HttpRequestMessage(HttpMethod.Post, analyze) { Content = body };
        }, cancellationToken).ConfigureAwait(false);

        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw response.IsSuccessStatusCode
                ? new DocumentParseException($"Document Intelligence answered {Status(response)} instead of 202 Accepted to the analyze request.")
                : await FailureAsync(response, cancellationToken).ConfigureAwait(false);
        }

        if (!response.Headers.TryGetValues("Operation-Location", out var locations)
            || locations.FirstOrDefault() is not { Length: > 0 } location
            || !Uri.TryCreate(_connection.Endpoint, location, out var operation))
        {
            throw new DocumentParseException("Document Intelligence accepted the document but named no operation to follow (no Operation-Location header).");
        }

        // The key goes with every poll, so it must not follow a location to another host.
        if (Uri.Compare(operation, _connection.Endpoint, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) != 0)
        {
            throw new DocumentParseException(
                $"Document Intelligence named an operation on another host ({operation.GetLeftPart(UriPartial.Authority)}); the key is only sent to {_connection.Endpoint.GetLeftPart(UriPartial.Authority)}.");
        }

        return (operation, RetryAfter(response) ?? _options.PollInterval);
    }

    private async Task<AnalyzeResult> PollAsync(Uri operation, TimeSpan wait, CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, operation), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw await FailureAsync(response, cancellationToken, polling: true).ConfigureAwait(false);
            }

            var state = await ReadAsync<AnalyzeOperation>(response, cancellationToken).ConfigureAwait(false)
                ?? throw new DocumentParseException("Document Intelligence answered the poll with an empty body.");
            switch (state.Status?.ToUpperInvariant())
            {
                case "SUCCEEDED":
                    return state.AnalyzeResult
                        ?? throw new DocumentParseException("Document Intelligence reported success but sent no analysis result.");
                case "FAILED" or "CANCELED" or "SKIPPED":
                    throw new DocumentParseException(
                        $"Document Intelligence could not analyse the document (status {state.Status}): {Describe(state.Error) ?? "no reason given."}");
                default:
                    // notStarted, running, or a status newer than this client: keep polling until the deadline.
                    wait = RetryAfter(response) ?? _options.PollInterval;
                    break;
            }
        }
    }

    /// <summary>
    /// Sends with the key, retrying throttling (429), transient server errors and unreachable endpoints, honouring
    /// <c>Retry-After</c>. Returns the last answer, which the caller turns into a reason when it is still a failure.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> createRequest, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = createRequest();
            request.Headers.Add(KeyHeader, _connection.Key);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                if (attempt >= _options.MaxAttempts)
                {
                    var what = ex is HttpRequestException ? ex.Message : $"no answer within {_http.Timeout.TotalSeconds:0} s";
                    throw new DocumentParseException(
                        $"Document Intelligence could not be reached at {_connection.Endpoint.GetLeftPart(UriPartial.Authority)} ({attempt} attempts): {what}", ex);
                }

                _logger.LogWarning(ex, "Document Intelligence request {Method} failed (attempt {Attempt} of {MaxAttempts}); retrying",
                    request.Method, attempt, _options.MaxAttempts);
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (!IsTransient(response.StatusCode) || attempt >= _options.MaxAttempts)
            {
                return response;
            }

            var delay = RetryAfter(response) ?? Backoff(attempt);
            if (delay > MaxRetryWait)
            {
                return response;
            }

            _logger.LogWarning("Document Intelligence answered {Status} to {Method} (attempt {Attempt} of {MaxAttempts}); retrying in {Delay} ms",
                (int)response.StatusCode, request.Method, attempt, _options.MaxAttempts, (long)delay.TotalMilliseconds);
            response.Dispose();
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<DocumentParseException> FailureAsync(HttpResponseMessage response, CancellationToken cancellationToken, bool polling = false)
    {
        ServiceError? error = null;
        try
        {
            error = (await response.Content.ReadFromJsonAsync<ErrorResponse>(Json, cancellationToken).ConfigureAwait(false))?.Error;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
        {
            // Not the service's error shape (a proxy's page, say): the status alone has to do.
        }

        var status = Status(response);
        var detail = Describe(error) is { } described ? ": " + described : ".";
        return new DocumentParseException(response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                $"Document Intelligence refused the key ({status}); check the Key in ConnectionStrings:{DocumentIntelligenceConnection.ConnectionName}{detail}",
            HttpStatusCode.NotFound when polling =>
                $"Document Intelligence no longer knows the analysis it accepted ({status}){detail}",
            HttpStatusCode.NotFound =>
                $"Document Intelligence has no model '{_connection.Model}' at {_connection.Endpoint.GetLeftPart(UriPartial.Authority)} ({status}){detail}",
            HttpStatusCode.TooManyRequests =>
                $"Document Intelligence kept throttling the requests ({status}: the resource's rate limit or quota is exhausted) despite retries{detail}",
            >= HttpStatusCode.InternalServerError =>
                $"Document Intelligence kept failing ({status}) despite retries{detail}",
            _ => $"Document Intelligence refused the document ({status}){detail}"
        });
    }

    private static async Task<T?> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            throw new DocumentParseException($"Document Intelligence sent an answer this client cannot read: {ex.Message}", ex);
        }
    }

    /// <summary>The most specific message: the service wraps the real cause (e.g. InvalidContent) in a generic one.</summary>
    private static string? Describe(ServiceError? error)
    {
        string? described = null;
        for (var current = error; current is not null; current = current.InnerError)
        {
            if (!string.IsNullOrWhiteSpace(current.Message))
            {
                var message = current.Message.Trim();
                described = string.IsNullOrWhiteSpace(current.Code) ? message : $"{message} ({current.Code.Trim()})";
            }
        }

        return described;
    }

    private static string BodyType(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed) && parsed.MediaType is { } mediaType && ServiceContentTypes.Contains(mediaType)
            ? mediaType.ToLowerInvariant()
            : "application/octet-stream";

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || (int)status >= 500;

    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta > TimeSpan.Zero ? delta : TimeSpan.Zero,
        { Date: { } date } => date > DateTimeOffset.UtcNow ? date - DateTimeOffset.UtcNow : TimeSpan.Zero,
        _ => null
    };

    private TimeSpan Backoff(int attempt) =>
        _options.RetryDelay * Math.Pow(2, attempt - 1) * (0.8 + (Random.Shared.NextDouble() * 0.4));

    private static string Status(HttpResponseMessage response) =>
        string.Create(CultureInfo.InvariantCulture, $"{(int)response.StatusCode} {response.ReasonPhrase ?? response.StatusCode.ToString()}");

    private static ParseResult ToParseResult(AnalyzeResult analysis)
    {
        var pageCount = analysis.Pages is { Count: > 0 } pages ? pages.Count : (int?)null;
        var writer = new BlockWriter();
        if (analysis.Paragraphs is { Count: > 0 })
        {
            WriteParagraphsAndTables(analysis, writer);
        }
        else
        {
            // prebuilt-read on some inputs, and older results, carry only lines.
            WriteLines(analysis, writer);
        }

        if (writer.Count == 0)
        {
            var pagesRead = pageCount is { } count ? string.Create(CultureInfo.InvariantCulture, $" on its {count} page{(count == 1 ? "" : "s")}") : "";
            throw new DocumentParseException($"No text recognised: Document Intelligence (OCR) found no text in the document{pagesRead}.");
        }

        return new ParseResult(writer.Blocks, PageCount: pageCount);
    }

    /// <summary>
    /// Paragraphs and tables in reading order (by their offset in the recognised content). A table's cells are also
    /// listed as paragraphs; they are written once, as the table.
    /// </summary>
    private static void WriteParagraphsAndTables(AnalyzeResult analysis, BlockWriter writer)
    {
        var paragraphs = analysis.Paragraphs!;
        var tables = analysis.Tables ?? [];
        var inTables = new HashSet<int>();
        var tableRanges = new List<(int Start, int End)>();
        foreach (var table in tables)
        {
            var referenced = false;
            foreach (var element in (table.Cells ?? []).SelectMany(c => c.Elements ?? []))
            {
                if (element.StartsWith("/paragraphs/", StringComparison.Ordinal)
                    && int.TryParse(element.AsSpan("/paragraphs/".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    inTables.Add(index);
                    referenced = true;
                }
            }

            // Without cell elements the table's span tells which paragraphs are its cells.
            if (!referenced)
            {
                tableRanges.AddRange((table.Spans ?? []).Select(s => (s.Offset, s.Offset + s.Length)));
            }
        }

        var items = new List<(int Offset, int Order, Paragraph? Paragraph, Table? Table)>();
        var offset = 0;
        for (var i = 0; i < paragraphs.Count; i++)
        {
            offset = paragraphs[i].Spans is [{ } first, ..] ? first.Offset : offset;
            if (!inTables.Contains(i) && !tableRanges.Any(r => offset >= r.Start && offset < r.End))
            {
                items.Add((offset, i, paragraphs[i], null));
            }
        }

        for (var t = 0; t < tables.Count; t++)
        {
            items.Add((tables[t].Spans is [{ } first, ..] ? first.Offset : int.MaxValue, paragraphs.Count + t, null, tables[t]));
        }

        foreach (var item in items.OrderBy(i => i.Offset).ThenBy(i => i.Order))
        {
            if (item.Table is { } table)
            {
                WriteTable(table, writer);
                continue;
            }

            var paragraph = item.Paragraph!;
            var page = PageOf(paragraph.BoundingRegions);
            switch (paragraph.Role)
            {
                case "pageHeader" or "pageFooter" or "pageNumber":
                    // Repeated on every page: noise in chunks and search.
                    break;
                case "title":
                    writer.Heading(Content(paragraph.Content), 1, page);
                    break;
                case "sectionHeading":
                    writer.Heading(Content(paragraph.Content), 2, page);
                    break;
                default:
                    writer.Add(BlockKinds.Paragraph, JoinLines(Content(paragraph.Content)), page);
                    break;
            }
        }
    }

    private static void WriteTable(Table table, BlockWriter writer)
    {
        var rows = new List<string>();
        foreach (var row in (table.Cells ?? []).GroupBy(c => c.RowIndex).OrderBy(g => g.Key))
        {
            var cells = row.OrderBy(c => c.ColumnIndex).Select(c => TextCleanup.CollapseWhitespace(Content(c.Content))).ToList();
            while (cells.Count > 0 && cells[^1].Length == 0)
            {
                cells.RemoveAt(cells.Count - 1);
            }

            if (cells.Count > 0)
            {
                rows.Add(string.Join('\t', cells));
            }
        }

        writer.Add(BlockKinds.Table, string.Join('\n', rows), PageOf(table.BoundingRegions));
    }

    private static void WriteLines(AnalyzeResult analysis, BlockWriter writer)
    {
        foreach (var page in analysis.Pages ?? [])
        {
            var lines = (page.Lines ?? []).Select(l => Content(l.Content).Trim()).Where(l => l.Length > 0).ToList();
            if (lines.Count > 0)
            {
                writer.Add(BlockKinds.Paragraph, string.Join('\n', lines), page.PageNumber > 0 ? page.PageNumber : null);
            }
        }
    }

    private static int? PageOf(IReadOnlyList<BoundingRegion>? regions) =>
        regions is [{ PageNumber: > 0 and var page }, ..] ? page : null;

    // Layout writes check boxes into the text as these markers; they are not words anyone searches for.
    private static string Content(string? content) =>
        (content ?? "").Replace(":unselected:", "", StringComparison.Ordinal).Replace(":selected:", "", StringComparison.Ordinal);

    /// <summary>A paragraph's lines are layout, not meaning: one line, with words hyphenated across a break joined.</summary>
    private static string JoinLines(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (builder.Length > 1 && builder[^1] == '-' && char.IsLetter(builder[^2]) && char.IsLower(line[0]))
            {
                builder.Length--;
            }
            else if (builder.Length > 0)
            {
                builder.Append(' ');
            }

            builder.Append(line);
        }

        return builder.ToString();
    }

    private sealed record ErrorResponse(ServiceError? Error);

    private sealed record ServiceError(string? Code, string? Message, ServiceError? InnerError);

    private sealed record AnalyzeOperation(string? Status, ServiceError? Error, AnalyzeResult? AnalyzeResult);

    private sealed record AnalyzeResult(IReadOnlyList<AnalyzedPage>? Pages, IReadOnlyList<Paragraph>? Paragraphs, IReadOnlyList<Table>? Tables);

    private sealed record AnalyzedPage(int PageNumber, IReadOnlyList<Line>? Lines);

    private sealed record Line(string? Content);

    private sealed record Paragraph(string? Role, string? Content, IReadOnlyList<BoundingRegion>? BoundingRegions, IReadOnlyList<Span>? Spans);

    private sealed record Table(IReadOnlyList<TableCell>? Cells, IReadOnlyList<BoundingRegion>? BoundingRegions, IReadOnlyList<Span>? Spans);

    private sealed record TableCell(int RowIndex, int ColumnIndex, string? Content, IReadOnlyList<string>? Elements);

    private sealed record BoundingRegion(int PageNumber);

    private sealed record Span(int Offset, int Length);
}
