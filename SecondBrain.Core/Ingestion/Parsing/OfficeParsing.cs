using System.Globalization;
using System.IO.Compression;
using DocumentFormat.OpenXml.Packaging;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>What the three Office parsers share.</summary>
internal static class OfficeParsing
{
    /// <summary>
    /// A part larger than <see cref="ParsingLimits.MaxPartCharacters"/> is refused as the SDK reads it: an XML bomb
    /// inside a small zip must not exhaust memory, whatever sizes its zip headers claim. A new instance per
    /// document, as the SDK may fill in defaults on the object it is given.
    /// </summary>
    public static OpenSettings OpenSettings(ParsingLimits limits) => new() { MaxCharactersInPart = limits.MaxPartCharacters };

    /// <summary>
    /// Refuses, before the SDK opens it, a package with too many entries or an XML part whose zip header says it
    /// inflates beyond <see cref="ParsingLimits.MaxPartBytes"/>, with a reason that names the part. Media parts are
    /// not read by the parsers, so their size does not matter here.
    /// </summary>
    public static void CheckPackage(byte[] content, ParsingLimits limits)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
        }
        catch (InvalidDataException)
        {
            return; // not a readable zip: the SDK says what is wrong with it
        }

        using (zip)
        {
            if (zip.Entries.Count > limits.MaxPackageEntries)
            {
                throw new DocumentParseException(string.Create(CultureInfo.InvariantCulture,
                    $"The package has {zip.Entries.Count} parts, more than the limit of {limits.MaxPackageEntries} ({ParsingLimits.SectionName}:{nameof(ParsingLimits.MaxPackageEntries)})."));
            }

            foreach (var entry in zip.Entries)
            {
                if (entry.Length > limits.MaxPartBytes && IsXml(entry.FullName))
                {
                    throw new DocumentParseException(string.Create(CultureInfo.InvariantCulture,
                        $"The part {entry.FullName} inflates to {entry.Length / (1024.0 * 1024):0.#} MB, more than the limit of {limits.MaxPartBytes / (1024.0 * 1024):0.#} MB per part ({ParsingLimits.SectionName}:{nameof(ParsingLimits.MaxPartBytes)})."));
                }
            }
        }
    }

    /// <summary>The reason for a part the SDK stopped reading at <see cref="ParsingLimits.MaxPartCharacters"/>, or null for another XML error.</summary>
    public static string? PartTooLarge(Exception exception, ParsingLimits limits)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is System.Xml.XmlException && ex.Message.Contains("MaxCharactersInDocument", StringComparison.Ordinal))
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"a part has more than {limits.MaxPartCharacters} characters, the limit per part ({ParsingLimits.SectionName}:{nameof(ParsingLimits.MaxPartCharacters)}).");
            }
        }

        return null;
    }

    private static bool IsXml(string name) =>
        name.EndsWith(".xml", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".rels", StringComparison.OrdinalIgnoreCase)
        || name.EndsWith(".vml", StringComparison.OrdinalIgnoreCase);

    public static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    public static DateTimeOffset? ToOffset(DateTime? value) =>
        value is { } date && date.Year > 1900 ? new DateTimeOffset(DateTime.SpecifyKind(date, DateTimeKind.Utc)) : null;
}
