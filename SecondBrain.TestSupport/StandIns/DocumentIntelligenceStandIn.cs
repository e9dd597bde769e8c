using System.Globalization;
using System.Text;
using System.Text.Json;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace SecondBrain.TestSupport.StandIns;

/// <summary>
/// An Azure Document Intelligence stand-in on WireMock.Net speaking the REST API (2024-11-30) the client uses:
/// <c>POST documentModels/{model}:analyze</c> answers 202 with <c>Operation-Location</c>, polls of that location
/// answer <c>running</c> (with <c>Retry-After</c>) and then the result, shaped like prebuilt-layout's: paragraphs
/// with roles, bounding regions and spans, tables whose cells point at their paragraphs, pages with lines. Switches
/// turn on the service's failure modes.
/// </summary>
public sealed class DocumentIntelligenceStandIn : IDisposable
{
    public const string ApiVersion = "2024-11-30";

    /// <summary>Two pages: page headers, a footer and a page number to drop, a title, a section heading, a table, a footnote.</summary>
    public static readonly IReadOnlyList<Item> SampleDocument =
    [
        new Paragraph(1, "Northwind Field Services - Confidential", "pageHeader"),
        new Paragraph(1, "Turbine Inspection Report", "title"),
        new Paragraph(1, "The Zanzibar wind farm was inspected in March. All twelve turbines were climbed and their blades photo-\ngraphed from the nacelle."),
        new Paragraph(1, "1", "pageNumber"),
        new Paragraph(2, "Northwind Field Services - Confidential", "pageHeader"),
        new Paragraph(2, "Findings", "sectionHeading"),
        new Paragraph(2, "Blade three of turbine seven shows leading-edge erosion\nand needs repair before winter."),
        new Table(2, [["Turbine", "Condition"], ["7", "Erosion"], ["9", "Good"]]),
        new Paragraph(2, "Inspected by drone on 4 March 2025.", "footnote"),
        new Paragraph(2, "Page 2 of 2", "pageFooter")
    ];

    private static readonly HashSet<string> Models = new(StringComparer.Ordinal) { "prebuilt-layout", "prebuilt-read" };

    private readonly WireMockServer _server;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Operation> _operations = new(StringComparer.Ordinal);
    private readonly List<AnalyzeRequest> _analyzeRequests = [];
    private readonly List<Poll> _polls = [];
    private readonly List<RequestSeen> _requests = [];
    private int _failuresLeft;
    private int _failureStatus;
    private int _failureRetryAfter;
    private bool _failPollsOnly;

    public DocumentIntelligenceStandIn()
    {
        _server = WireMockServer.Start();
        Map(Request.Create().WithPath(new RegexMatcher(@"^/documentintelligence/documentModels/[^/:]+:analyze$")).UsingPost(), Analyze);
        Map(Request.Create().WithPath(new RegexMatcher(@"^/documentintelligence/documentModels/[^/]+/analyzeResults/[^/]+$")).UsingGet(), Result);
    }

    public string Url => _server.Url!;

    public string Key { get; } = "di-standin-key";

    /// <summary>The document every analysis "recognises", whatever the bytes.</summary>
    public IReadOnlyList<Item> Document { get; set; } = SampleDocument;

    /// <summary>Answer like prebuilt-read on a plain scan: pages with lines, no paragraphs or tables.</summary>
    public bool LinesOnly { get; set; }

    /// <summary>Polls answered <c>running</c> before the result.</summary>
    public int RunningPolls { get; set; } = 1;

    /// <summary><c>Retry-After</c> seconds on the 202 and on running polls; null sends none.</summary>
    public int? RetryAfterSeconds { get; set; } = 0;

    /// <summary>The operation ends <c>failed</c> with this inner error (as the service reports a document it gave up on).</summary>
    public (string Code, string Message)? AnalysisFailure { get; set; }

    /// <summary>The analyze request is refused with 400 and this inner error (e.g. InvalidContent for an unsupported file).</summary>
    public (string Code, string Message)? ContentRejection { get; set; }

    public IReadOnlyList<AnalyzeRequest> AnalyzeRequests
    {
        get
        {
            lock (_gate)
            {
                return [.. _analyzeRequests];
            }
        }
    }

    public IReadOnlyList<Poll> Polls
    {
        get
        {
            lock (_gate)
            {
                return [.. _polls];
            }
        }
    }

    /// <summary>Every request, with the key it carried, before any check.</summary>
    public IReadOnlyList<RequestSeen> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary><c>ConnectionStrings:documentintelligence</c> pointing at this stand-in.</summary>
    public string ConnectionString(string? key = null, string? model = null) =>
        $"Endpoint={Url}/;Key={key ?? Key}" + (model is null ? "" : $";Model={model}");

    /// <summary>
    /// The next <paramref name="count"/> requests (analyze or poll, or only polls) answer <paramref name="status"/>
    /// with Retry-After.
    /// </summary>
    public void FailNextRequests(int count, int status = 429, int retryAfterSeconds = 0, bool pollsOnly = false)
    {
        lock (_gate)
        {
            _failuresLeft = count;
            _failureStatus = status;
            _failureRetryAfter = retryAfterSeconds;
            _failPollsOnly = pollsOnly;
        }
    }

    public void Dispose() => _server.Stop();

    private void Map(IRequestBuilder request, Func<IRequestMessage, ResponseMessage> handler) =>
        _server.Given(request).RespondWith(Response.Create().WithCallback(r => Guarded(r, handler)));

    private ResponseMessage Guarded(IRequestMessage request, Func<IRequestMessage, ResponseMessage> handler)
    {
        lock (_gate)
        {
            _requests.Add(new RequestSeen(request.Method, request.Path, Header(request, "Ocp-Apim-Subscription-Key"), DateTimeOffset.UtcNow));
            if (Header(request, "Ocp-Apim-Subscription-Key") != Key)
            {
                return Error(401, "401",
                    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.");
            }

            if (Query(request).GetValueOrDefault("api-version") != ApiVersion)
            {
                return Error(404, "404", "Resource not found");
            }

            if (_failuresLeft > 0 && (!_failPollsOnly || request.Method == "GET"))
            {
                _failuresLeft--;
                var failure = _failureStatus == 429
                    ? Error(429, "429", "Requests to the Analyze Document Operation have exceeded rate limit of your current AIServices S0 pricing tier.")
                    : Error(_failureStatus, "InternalServerError", "An unexpected error occurred.");
                failure.AddHeader("Retry-After", _failureRetryAfter.ToString(CultureInfo.InvariantCulture));
                return failure;
            }

            return handler(request);
        }
    }

    private ResponseMessage Analyze(IRequestMessage request)
    {
        var model = request.Path.Split('/')[3].Split(':')[0];
        var body = request.BodyData?.BodyAsBytes ?? [];
        _analyzeRequests.Add(new AnalyzeRequest(model, Query(request).GetValueOrDefault("api-version"), Header(request, "Content-Type"), body));
        if (!Models.Contains(model))
        {
            return Error(404, "NotFound", "Resource not found.", ("ModelNotFound", $"The requested model '{model}' was not found."));
        }

        if (body.Length == 0)
        {
            return Error(400, "InvalidRequest", "Invalid request.", ("EmptyRequest", "Request body must not be empty."));
        }

        if (ContentRejection is { } rejection)
        {
            return Error(400, "InvalidRequest", "Invalid request.", rejection);
        }

        var id = Guid.NewGuid().ToString();
        _operations[id] = new Operation(model, DateTimeOffset.UtcNow);
        var accepted = new ResponseMessage { StatusCode = 202, Headers = new Dictionary<string, WireMockList<string>>() };
        accepted.AddHeader("Operation-Location", $"{Url}/documentintelligence/documentModels/{model}/analyzeResults/{id}?api-version={ApiVersion}");
        accepted.AddHeader("apim-request-id", id);
        AddRetryAfter(accepted);
        return accepted;
    }

    private ResponseMessage Result(IRequestMessage request)
    {
        var id = request.Path.Split('/')[5];
        if (!_operations.TryGetValue(id, out var operation))
        {
            return Error(404, "NotFound", "Resource not found.", ("AnalyzeResultNotFound", "The requested analyze result was not found."));
        }

        _polls.Add(new Poll(id, DateTimeOffset.UtcNow));
        var created = operation.Created.ToString("O", CultureInfo.InvariantCulture);
        var updated = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        if (operation.Polls++ < RunningPolls)
        {
            var running = Json(200, new { status = "running", createdDateTime = created, lastUpdatedDateTime = updated });
            AddRetryAfter(running);
            return running;
        }

        if (AnalysisFailure is { } failure)
        {
            return Json(200, new
            {
                status = "failed",
                createdDateTime = created,
                lastUpdatedDateTime = updated,
                error = new { code = "InvalidRequest", message = "Invalid request.", innererror = new { code = failure.Code, message = failure.Message } }
            });
        }

        return Json(200, new { status = "succeeded", createdDateTime = created, lastUpdatedDateTime = updated, analyzeResult = AnalyzeResult(operation.Model) });
    }

    /// <summary>The result shaped as the service builds it: every element's text is a span of <c>content</c>.</summary>
    private Dictionary<string, object?> AnalyzeResult(string model)
    {
        var content = new StringBuilder();
        var paragraphs = new List<object>();
        var tables = new List<object>();
        var pageCount = Math.Max(1, Document.Count == 0 ? 1 : Document.Max(i => i.Page));
        var lines = Enumerable.Range(1, pageCount).ToDictionary(p => p, _ => new List<object>());

        object Region(int page) => new[] { new { pageNumber = page, polygon = new[] { 1.0, 1.0, 7.5, 1.0, 7.5, 1.5, 1.0, 1.5 } } };

        int Text(int page, string text, string? role)
        {
            var offset = content.Length;
            content.Append(text).Append('\n');
            var lineOffset = offset;
            foreach (var line in text.Split('\n'))
            {
                lines[page].Add(new { content = line, polygon = new[] { 1.0, 1.0, 7.5, 1.0, 7.5, 1.2, 1.0, 1.2 }, spans = new[] { new { offset = lineOffset, length = line.Length } } });
                lineOffset += line.Length + 1;
            }

            var paragraph = new Dictionary<string, object?>
            {
                ["content"] = text,
                ["boundingRegions"] = Region(page),
                ["spans"] = new[] { new { offset, length = text.Length } }
            };
            if (role is not null)
            {
                paragraph["role"] = role;
            }

            paragraphs.Add(paragraph);
            return paragraphs.Count - 1;
        }

        foreach (var item in Document)
        {
            switch (item)
            {
                case Paragraph paragraph:
                    Text(paragraph.Page, paragraph.Text, paragraph.Role);
                    break;
                case Table table:
                    var start = content.Length;
                    var cells = new List<object>();
                    for (var row = 0; row < table.Rows.Count; row++)
                    {
                        for (var column = 0; column < table.Rows[row].Count; column++)
                        {
                            var cellOffset = content.Length;
                            var text = table.Rows[row][column];
                            var index = Text(table.Page, text, null);
                            cells.Add(new
                            {
                                kind = row == 0 ? "columnHeader" : "content",
                                rowIndex = row,
                                columnIndex = column,
                                content = text,
                                boundingRegions = Region(table.Page),
                                spans = new[] { new { offset = cellOffset, length = text.Length } },
                                elements = new[] { $"/paragraphs/{index}" }
                            });
                        }
                    }

                    tables.Add(new
                    {
                        rowCount = table.Rows.Count,
                        columnCount = table.Rows.Max(r => r.Count),
                        cells,
                        boundingRegions = Region(table.Page),
                        spans = new[] { new { offset = start, length = content.Length - start } }
                    });
                    break;
            }
        }

        var result = new Dictionary<string, object?>
        {
            ["apiVersion"] = ApiVersion,
            ["modelId"] = model,
            ["stringIndexType"] = "textElements",
            ["content"] = content.ToString(),
            ["pages"] = lines.OrderBy(p => p.Key).Select(p => new { pageNumber = p.Key, angle = 0, width = 8.5, height = 11, unit = "inch", words = Array.Empty<object>(), lines = p.Value }).ToList(),
            ["styles"] = Array.Empty<object>(),
            ["contentFormat"] = "text"
        };
        if (!LinesOnly)
        {
            result["paragraphs"] = paragraphs;
            result["tables"] = tables;
        }

        return result;
    }

    private void AddRetryAfter(ResponseMessage response)
    {
        if (RetryAfterSeconds is { } seconds)
        {
            response.AddHeader("Retry-After", seconds.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static ResponseMessage Error(int status, string code, string message, (string Code, string Message)? inner = null) =>
        Json(status, new
        {
            error = inner is { } innerError
                ? (object)new { code, message, innererror = new { code = innerError.Code, message = innerError.Message } }
                : new { code, message }
        });

    private static ResponseMessage Json(int status, object body)
    {
        var response = new ResponseMessage
        {
            StatusCode = status,
            Headers = new Dictionary<string, WireMockList<string>>(),
            BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = JsonSerializer.Serialize(body), Encoding = Encoding.UTF8 }
        };
        response.AddHeader("Content-Type", "application/json; charset=utf-8");
        return response;
    }

    private static string? Header(IRequestMessage request, string name) =>
        request.Headers?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();

    // Parsed by hand: WireMock splits query values on commas.
    private static Dictionary<string, string> Query(IRequestMessage request)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in (request.RawQuery ?? "").TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            pairs[Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals])] = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
        }

        return pairs;
    }

    public abstract record Item(int Page);

    /// <summary>A recognised paragraph; <paramref name="Role"/> as the service names it (title, sectionHeading, pageHeader, ...).</summary>
    public sealed record Paragraph(int Page, string Text, string? Role = null) : Item(Page);

    public sealed record Table(int Page, IReadOnlyList<IReadOnlyList<string>> Rows) : Item(Page);

    public sealed record AnalyzeRequest(string Model, string? ApiVersion, string? ContentType, byte[] Body);

    public sealed record Poll(string OperationId, DateTimeOffset At);

    public sealed record RequestSeen(string Method, string Path, string? Key, DateTimeOffset At);

    private sealed class Operation(string model, DateTimeOffset created)
    {
        public string Model { get; } = model;

        public DateTimeOffset Created { get; } = created;

        public int Polls { get; set; }
    }
}
