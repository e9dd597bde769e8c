using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>
/// The deployment's ceilings on parsing, shared by every tenant on the same Workers: a tenant's own settings
/// (<see cref="ParsingSettings"/>) may ask for less, never more (a PUT above a ceiling is refused, and settings stored
/// before a ceiling was lowered are clamped at use). Plus the limits no tenant setting reaches: the characters of one
/// Office part and of one document's text. Bound from <c>Ingestion:Parsing</c> and validated at start; the parse
/// timeout ceiling must stay below <c>Ingestion:LeaseDuration</c>, so one document cannot outlive its batch's lease.
/// </summary>
public sealed class ParsingLimits
{
    public const string SectionName = "Ingestion:Parsing";

    /// <summary>Longest per-document parse timeout a tenant may set.</summary>
    public TimeSpan MaxTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>Largest document a tenant may allow; also what an upload may store per document.</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxDocumentBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Most PDF pages a tenant may allow.</summary>
    [Range(1, 100_000)]
    public int MaxPdfPages { get; set; } = 5000;

    /// <summary>
    /// Characters of one XML part of a docx, pptx or xlsx (the Open XML SDK stops reading beyond it). The body of a
    /// 1,000-page report is a few million; a part that inflates further is a bomb, not a document.
    /// </summary>
    [Range(1024, 1_000_000_000)]
    public long MaxPartCharacters { get; set; } = 16_000_000;

    /// <summary>Bytes one entry of an Office package may inflate to, checked against the zip before the SDK opens it.</summary>
    [Range(1024, 4L * 1024 * 1024 * 1024)]
    public long MaxPartBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Entries in one Office package.</summary>
    [Range(1, 1_000_000)]
    public int MaxPackageEntries { get; set; } = 10_000;

    /// <summary>Characters of text one document may yield; a document with more fails with the reason.</summary>
    [Range(1024, 1_000_000_000)]
    public long MaxTextCharacters { get; set; } = 10_000_000;

    /// <summary>Why a document with more text than <see cref="MaxTextCharacters"/> was refused.</summary>
    public string TextTooLong(string description) => string.Create(CultureInfo.InvariantCulture,
        $"The {description} has more than {MaxTextCharacters:N0} characters of text, the limit per document ({SectionName}:{nameof(MaxTextCharacters)}).");

    /// <summary>The tenant's settings with every value above a ceiling brought down to it.</summary>
    public ParsingSettings Clamp(ParsingSettings settings) => settings with
    {
        Timeout = settings.Timeout > MaxTimeout ? MaxTimeout : settings.Timeout,
        MaxDocumentBytes = Math.Min(settings.MaxDocumentBytes, MaxDocumentBytes),
        MaxPdfPages = Math.Min(settings.MaxPdfPages, MaxPdfPages)
    };
}
