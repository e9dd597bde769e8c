using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Ingestion;

/// <summary>A tenant's parsing settings. Immutable once stored: a change is a new version.</summary>
public sealed record ParsingSettings
{
    public int Version { get; init; }

    /// <summary>Per-document parse timeout; a parser that takes longer fails the document, never the worker.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    public long MaxDocumentBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Keep quoted replies of e-mails (as their own blocks) or drop them.</summary>
    public bool IncludeEmailQuotes { get; init; } = true;

    /// <summary>Keep e-mail signatures (as their own blocks) or drop them.</summary>
    public bool IncludeEmailSignatures { get; init; } = true;

    /// <summary>Send scanned PDFs and images to Azure Document Intelligence when it is configured.</summary>
    public bool UseDocumentIntelligence { get; init; } = true;

    public int MaxPdfPages { get; init; } = 2000;
}

/// <summary>Row of <c>parsing_settings</c>: one per tenant and version; the highest version is in force.</summary>
public sealed class ParsingSettingsVersion : ITenantOwned
{
    public long Id { get; set; }
    public Guid TenantId { get; set; }
    public int Version { get; set; }
    public required string SettingsJson { get; set; }
    public Guid? ChangedByUserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}
