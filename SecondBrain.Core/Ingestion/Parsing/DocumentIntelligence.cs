namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>
/// Cloud OCR and layout (e.g. Azure Document Intelligence) for scanned PDFs and images. The parser calls it only
/// when the tenant's settings allow it and <see cref="IsConfigured"/> says an endpoint is there.
/// </summary>
public interface IDocumentIntelligence
{
    bool IsConfigured { get; }

    /// <summary>Blocks in reading order (with <see cref="DocumentBlock.Page"/>); throws <see cref="DocumentParseException"/> on failure.</summary>
    Task<ParseResult> AnalyzeAsync(string fileName, string contentType, byte[] content, CancellationToken cancellationToken);
}

/// <summary>Used when no Document Intelligence endpoint is configured: scanned documents fail with a clear reason.</summary>
public sealed class NullDocumentIntelligence : IDocumentIntelligence
{
    public static readonly NullDocumentIntelligence Instance = new();

    public bool IsConfigured => false;

    public Task<ParseResult> AnalyzeAsync(string fileName, string contentType, byte[] content, CancellationToken cancellationToken) =>
        throw new DocumentParseException("Document Intelligence (OCR) is not configured.");
}
