using System.Globalization;
using System.Text;
using System.Xml;
using DocumentFormat.OpenXml.Packaging;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>
/// Turns one stored document into blocks. Detects the format from content, content type and extension, enforces
/// the size limit and the per-document timeout of its settings, and turns every failure of a third-party parser
/// into a <see cref="DocumentParseException"/> with a reason, so a bad file fails that document and never the worker.
/// Built per job by <see cref="DocumentParserFactory"/>; holds only immutable settings.
/// </summary>
public sealed class DocumentParser : IDocumentParser
{
    public const string EmptyReason = "The document is empty.";

    // Third-party parsers recurse over document structure; a generous stack keeps a deeply nested file from
    // overflowing it, which (unlike an exception) would take the whole process down.
    private const int WorkerStackBytes = 16 * 1024 * 1024;

    private readonly IDocumentIntelligence _intelligence;

    public DocumentParser(ParsingSettings? settings = null, IDocumentIntelligence? intelligence = null, ParsingLimits? limits = null)
    {
        Limits = limits ?? new ParsingLimits();
        Settings = Limits.Clamp(settings ?? new ParsingSettings());
        _intelligence = intelligence ?? NullDocumentIntelligence.Instance;
    }

    /// <summary>The tenant's settings, within the deployment's ceilings.</summary>
    public ParsingSettings Settings { get; }

    /// <summary>The deployment's limits (part and text sizes) and ceilings.</summary>
    public ParsingLimits Limits { get; }

    public async Task<ParseResult> ParseAsync(ParseInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        cancellationToken.ThrowIfCancellationRequested();
        CheckSize(input);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Settings.Timeout);

        // Parsers do not all observe cancellation, so the parse runs on its own thread and is abandoned (told to
        // stop through the token, and left to finish in the background) when it overruns its time.
        var work = RunOnWorkerThread(() => ParseOnWorker(input, deadline.Token));
        Parsed parsed;
        try
        {
            parsed = await work.WaitAsync(Settings.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!work.IsCompleted)
        {
            await deadline.CancelAsync().ConfigureAwait(false);
            Observe(work);
            throw TimedOut();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Observe(work);
            throw;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw TimedOut();
        }

        var result = parsed.Result;
        if (parsed.OcrReason is { } ocrReason)
        {
            if (!Settings.UseDocumentIntelligence || !_intelligence.IsConfigured)
            {
                throw new DocumentParseException(ocrReason);
            }

            try
            {
                var content = input.Content ?? [];
                var recognised = await _intelligence.AnalyzeAsync(input.FileName, input.ContentType, content, deadline.Token)
                    .WaitAsync(deadline.Token).ConfigureAwait(false);
                result = recognised with { PageCount = recognised.PageCount ?? result?.PageCount };
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline.IsCancellationRequested)
            {
                throw TimedOut();
            }
            catch (Exception ex) when (ex is not (DocumentParseException or OperationCanceledException))
            {
                throw new DocumentParseException($"Document Intelligence (OCR) failed: {ex.Message}", ex);
            }
        }

        return Finish(result!, parsed.Type, Limits);
    }

    private sealed record Parsed(ParseResult? Result, DetectedType Type, string? OcrReason = null);

    private Parsed ParseOnWorker(ParseInput input, CancellationToken cancellationToken)
    {
        DetectedType type = new(DocumentKind.Unsupported, "document");
        try
        {
            if (input.Text is not null)
            {
                type = TypeOfText(input);
                return new Parsed(ParseText(input.Text, type.Kind, cancellationToken), type);
            }

            var content = input.Content ?? [];
            if (IsBlank(content))
            {
                throw new DocumentParseException(EmptyReason);
            }

            type = DocumentTypeDetector.Detect(input, content);
            var charset = DocumentTypeDetector.Charset(input.ContentType);
            switch (type.Kind)
            {
                case DocumentKind.Pdf:
                    var outcome = PdfParser.Parse(content, Settings, Limits, cancellationToken);
                    return outcome.HasTextLayer
                        ? new Parsed(outcome.Result, type)
                        : new Parsed(outcome.Result, type, OcrReason: ScannedReason("The PDF has no text layer (it looks scanned)"));
                case DocumentKind.Image:
                    return new Parsed(null, type, OcrReason: ScannedReason($"The {type.Description} has no text layer"));
                case DocumentKind.Docx:
                    return new Parsed(WordParser.Parse(content, Limits, cancellationToken), type);
                case DocumentKind.Pptx:
                    return new Parsed(PresentationParser.Parse(content, Limits, cancellationToken), type);
                case DocumentKind.Xlsx:
                    return new Parsed(SpreadsheetParser.Parse(content, Limits, cancellationToken), type);
                case DocumentKind.Email:
                    return new Parsed(EmailParser.Parse(content, Settings, cancellationToken), type);
                case DocumentKind.Mbox:
                    return new Parsed(EmailParser.ParseMbox(content, Settings, cancellationToken), type);
                case DocumentKind.Html:
                    return new Parsed(HtmlParser.Parse(content, charset, cancellationToken), type);
                case DocumentKind.Unsupported:
                    throw new DocumentParseException(type.UnsupportedReason ?? $"The {type.Description} is not a supported document type.");
                default:
                    return new Parsed(ParseText(TextDecoding.Decode(content, charset), type.Kind, cancellationToken), type);
            }
        }
        catch (DocumentParseException)
        {
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw new DocumentParseException(Explain(ex, type, Limits), ex);
        }
    }

    private ParseResult ParseText(string text, DocumentKind kind, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new DocumentParseException(EmptyReason);
        }

        return kind switch
        {
            DocumentKind.SlackThread => MessageTextParser.ParseSlackThread(text, cancellationToken),
            DocumentKind.Html => HtmlParser.Parse(text, cancellationToken),
            DocumentKind.Markdown => MarkdownParser.Parse(text, cancellationToken),
            DocumentKind.Csv => CsvParser.Parse(text, cancellationToken),
            DocumentKind.Json => JsonParser.Parse(text, cancellationToken),
            DocumentKind.Email or DocumentKind.Mbox => kind == DocumentKind.Email
                ? EmailParser.Parse(Encoding.UTF8.GetBytes(text), Settings, cancellationToken)
                : EmailParser.ParseMbox(Encoding.UTF8.GetBytes(text), Settings, cancellationToken),
            _ => PlainTextParser.Parse(text, cancellationToken)
        };
    }

    /// <summary>Text a connector already extracted: the content type says how it is structured, nothing else matters.</summary>
    private static DetectedType TypeOfText(ParseInput input)
    {
        var mediaType = DocumentTypeDetector.MediaType(input.ContentType);
        var kind = mediaType switch
        {
            DocumentTypeDetector.SlackThreadContentType => DocumentKind.SlackThread,
            "text/html" or "application/xhtml+xml" => DocumentKind.Html,
            "text/markdown" or "text/x-markdown" => DocumentKind.Markdown,
            "text/csv" => DocumentKind.Csv,
            "application/json" => DocumentKind.Json,
            "message/rfc822" => DocumentKind.Email,
            "application/mbox" => DocumentKind.Mbox,
            _ => DocumentKind.PlainText
        };
        return new DetectedType(kind, DocumentTypeDetector.Describe(kind));
    }

    private static ParseResult Finish(ParseResult result, DetectedType type, ParsingLimits limits)
    {
        var blocks = result.Blocks
            .Select(b => b with { Text = TextCleanup.Clean(b.Text) })
            .Where(b => b.Text.Length > 0)
            .ToList();
        // Whatever the format: more text than this would cost the Worker its memory in chunks and embeddings.
        if (blocks.Sum(b => (long)b.Text.Length) > limits.MaxTextCharacters)
        {
            throw new DocumentParseException(limits.TextTooLong(type.Description));
        }

        if (blocks.Count == 0)
        {
            throw new DocumentParseException(type.Kind is DocumentKind.PlainText or DocumentKind.Markdown or DocumentKind.Csv
                or DocumentKind.Json or DocumentKind.SlackThread or DocumentKind.Unsupported
                ? EmptyReason
                : $"{EmptyReason[..^1]}: the {type.Description} contains no text.");
        }

        var title = Metadata(result.Title)
            ?? (type.Kind is DocumentKind.Email or DocumentKind.Mbox ? null : blocks.FirstOrDefault(b => b.Kind == BlockKinds.Heading)?.Text);
        if (title is { Length: > 300 })
        {
            title = title[..300];
        }

        return result with { Blocks = blocks, Title = title, Author = Metadata(result.Author) };
    }

    private static string? Metadata(string? value) =>
        TextCleanup.CollapseWhitespace(TextCleanup.Clean(value)) is { Length: > 0 } clean ? clean : null;

    private void CheckSize(ParseInput input)
    {
        var size = input.Content?.LongLength ?? (input.Text is null ? 0 : Encoding.UTF8.GetByteCount(input.Text));
        if (size > Settings.MaxDocumentBytes)
        {
            throw new DocumentParseException(
                $"The document is {FormatBytes(size)}, larger than the limit of {FormatBytes(Settings.MaxDocumentBytes)} per document.");
        }
    }

    private static bool IsBlank(byte[] content)
    {
        if (content.Length == 0)
        {
            return true;
        }

        if (content.Length > 64 * 1024 || !DocumentTypeDetector.LooksLikeText(content))
        {
            return false;
        }

        return string.IsNullOrWhiteSpace(TextDecoding.Decode(content).Replace("\0", ""));
    }

    private string ScannedReason(string what) =>
        Settings.UseDocumentIntelligence
            ? $"{what}; it needs OCR (Document Intelligence), which is not configured."
            : $"{what}; it needs OCR (Document Intelligence), which is turned off in this tenant's parsing settings.";

    private DocumentParseException TimedOut() =>
        new($"Parsing took longer than {FormatDuration(Settings.Timeout)}, the per-document limit; the document was skipped.");

    private static string Explain(Exception ex, DetectedType type, ParsingLimits limits)
    {
        var message = string.IsNullOrWhiteSpace(ex.Message) ? ex.GetType().Name : ex.Message.Trim();
        if (type.Kind is DocumentKind.Docx or DocumentKind.Pptx or DocumentKind.Xlsx && OfficeParsing.PartTooLarge(ex, limits) is { } tooLarge)
        {
            return $"The {type.Description} was refused: {tooLarge}";
        }

        return ex switch
        {
            OpenXmlPackageException or InvalidDataException or FileFormatException or XmlException or InvalidOperationException
                when type.Kind is DocumentKind.Docx or DocumentKind.Pptx or DocumentKind.Xlsx
                => $"The {type.Description} is malformed: {message}",
            FormatException when type.Kind is DocumentKind.Email or DocumentKind.Mbox
                => $"The {type.Description} is malformed: {message}",
            OutOfMemoryException or InsufficientExecutionStackException
                => $"The {type.Description} is too large or too deeply nested to parse.",
            _ => $"The {type.Description} could not be parsed: {message}"
        };
    }

    private static Task<T> RunOnWorkerThread<T>(Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                completion.TrySetResult(work());
            }
            catch (OperationCanceledException ex)
            {
                completion.TrySetCanceled(ex.CancellationToken);
            }
            catch (Exception ex)
            {
                completion.TrySetException(ex);
            }
        }, WorkerStackBytes)
        {
            IsBackground = true,
            Name = "document-parser"
        };
        thread.Start();
        return completion.Task;
    }

    /// <summary>An abandoned parse may still fail later; its exception is observed so it is not reported as unobserved.</summary>
    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private static string FormatDuration(TimeSpan duration) =>
        duration.TotalSeconds >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.#} s")
            : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0} ms");

    private static string FormatBytes(long bytes) =>
        bytes >= 1024 * 1024
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KB");
}
