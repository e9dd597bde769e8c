using System.IO.Compression;
using System.Text;

namespace SecondBrain.Core.Ingestion.Parsing;

internal enum DocumentKind
{
    Pdf,
    Docx,
    Pptx,
    Xlsx,
    Email,
    Mbox,
    Html,
    Markdown,
    Csv,
    Json,
    PlainText,
    SlackThread,
    Image,
    Unsupported
}

/// <summary>What a document is and, when unsupported, what to tell the user about it.</summary>
internal sealed record DetectedType(DocumentKind Kind, string Description, string? UnsupportedReason = null)
{
    public static DetectedType Unsupported(string description, string reason) => new(DocumentKind.Unsupported, description, reason);
}

/// <summary>
/// Decides the format from the content first (magic bytes, the package's [Content_Types].xml), then from the
/// declared content type, then from the file extension, then by sniffing text. Labels lie (Box reports no type,
/// uploads say application/octet-stream, a .p7s may be a whole MIME message), bytes rarely do.
/// </summary>
internal static class DocumentTypeDetector
{
    public const string SlackThreadContentType = "text/x-slack-thread";

    private static readonly Dictionary<string, DocumentKind> ByContentType = new(StringComparer.OrdinalIgnoreCase)
    {
        ["application/pdf"] = DocumentKind.Pdf,
        ["application/x-pdf"] = DocumentKind.Pdf,
        ["application/vnd.openxmlformats-officedocument.wordprocessingml.document"] = DocumentKind.Docx,
        ["application/vnd.openxmlformats-officedocument.presentationml.presentation"] = DocumentKind.Pptx,
        ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"] = DocumentKind.Xlsx,
        ["message/rfc822"] = DocumentKind.Email,
        ["application/mbox"] = DocumentKind.Mbox,
        ["text/html"] = DocumentKind.Html,
        ["application/xhtml+xml"] = DocumentKind.Html,
        ["text/markdown"] = DocumentKind.Markdown,
        ["text/x-markdown"] = DocumentKind.Markdown,
        ["text/csv"] = DocumentKind.Csv,
        ["application/csv"] = DocumentKind.Csv,
        ["application/json"] = DocumentKind.Json,
        ["text/json"] = DocumentKind.Json,
        ["text/plain"] = DocumentKind.PlainText,
        [SlackThreadContentType] = DocumentKind.SlackThread
    };

    private static readonly Dictionary<string, DocumentKind> ByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        [".pdf"] = DocumentKind.Pdf,
        [".docx"] = DocumentKind.Docx,
        [".docm"] = DocumentKind.Docx,
        [".pptx"] = DocumentKind.Pptx,
        [".pptm"] = DocumentKind.Pptx,
        [".xlsx"] = DocumentKind.Xlsx,
        [".xlsm"] = DocumentKind.Xlsx,
        [".eml"] = DocumentKind.Email,
        [".mbox"] = DocumentKind.Mbox,
        [".mbx"] = DocumentKind.Mbox,
        [".html"] = DocumentKind.Html,
        [".htm"] = DocumentKind.Html,
        [".xhtml"] = DocumentKind.Html,
        [".md"] = DocumentKind.Markdown,
        [".markdown"] = DocumentKind.Markdown,
        [".csv"] = DocumentKind.Csv,
        [".json"] = DocumentKind.Json,
        [".txt"] = DocumentKind.PlainText,
        [".text"] = DocumentKind.PlainText,
        [".log"] = DocumentKind.PlainText
    };

    /// <summary>Formats people send that have no parser here, with the name the user knows them by.</summary>
    private static readonly Dictionary<string, string> UnsupportedByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        [".doc"] = "Word 97-2003 document (.doc)",
        [".dot"] = "Word 97-2003 template (.dot)",
        [".ppt"] = "PowerPoint 97-2003 presentation (.ppt)",
        [".pps"] = "PowerPoint 97-2003 slide show (.pps)",
        [".xls"] = "Excel 97-2003 workbook (.xls)",
        [".msg"] = "Outlook message (.msg)",
        [".pst"] = "Outlook data file (.pst)",
        [".rtf"] = "Rich Text Format document (.rtf)",
        [".odt"] = "OpenDocument text (.odt)",
        [".ods"] = "OpenDocument spreadsheet (.ods)",
        [".odp"] = "OpenDocument presentation (.odp)",
        [".epub"] = "EPUB e-book (.epub)",
        [".pages"] = "Apple Pages document (.pages)",
        [".key"] = "Apple Keynote presentation (.key)",
        [".numbers"] = "Apple Numbers spreadsheet (.numbers)",
        [".zip"] = "zip archive",
        [".7z"] = "7-Zip archive",
        [".rar"] = "RAR archive",
        [".gz"] = "gzip file",
        [".tar"] = "tar archive",
        [".exe"] = "executable",
        [".dll"] = "executable",
        [".mp3"] = "audio file",
        [".wav"] = "audio file",
        [".mp4"] = "video file",
        [".mov"] = "video file"
    };

    private static readonly Dictionary<string, string> ImagesByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "PNG image",
        [".jpg"] = "JPEG image",
        [".jpeg"] = "JPEG image",
        [".gif"] = "GIF image",
        [".tif"] = "TIFF image",
        [".tiff"] = "TIFF image",
        [".bmp"] = "BMP image",
        [".webp"] = "WebP image",
        [".heic"] = "HEIC image"
    };

    private static readonly Dictionary<string, string> OdfMimeTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["application/vnd.oasis.opendocument.text"] = "OpenDocument text (.odt)",
        ["application/vnd.oasis.opendocument.spreadsheet"] = "OpenDocument spreadsheet (.ods)",
        ["application/vnd.oasis.opendocument.presentation"] = "OpenDocument presentation (.odp)",
        ["application/epub+zip"] = "EPUB e-book (.epub)"
    };

    public static DetectedType Detect(ParseInput input, byte[] content)
    {
        var contentType = MediaType(input.ContentType);
        var extension = Path.GetExtension(input.FileName ?? "");

        if (contentType == SlackThreadContentType)
        {
            return new DetectedType(DocumentKind.SlackThread, "Slack thread");
        }

        if (FromMagic(content, extension) is { } magic)
        {
            return magic;
        }

        if (ByContentType.TryGetValue(contentType, out var declared) && Fits(declared, content))
        {
            return new DetectedType(declared, Describe(declared));
        }

        if (ByExtension.TryGetValue(extension, out var byName) && Fits(byName, content))
        {
            return new DetectedType(byName, Describe(byName));
        }

        if (UnsupportedByExtension.TryGetValue(extension, out var unsupported))
        {
            return DetectedType.Unsupported(unsupported, $"{Capitalize(unsupported)} is not a supported document type.");
        }

        if (contentType.StartsWith("image/", StringComparison.Ordinal) || ImagesByExtension.ContainsKey(extension))
        {
            return new DetectedType(DocumentKind.Image, ImagesByExtension.GetValueOrDefault(extension, "image"));
        }

        return Sniff(content, contentType, extension);
    }

    public static string MediaType(string? contentType) =>
        (contentType ?? "").Split(';', 2)[0].Trim().ToLowerInvariant();

    public static string? Charset(string? contentType)
    {
        foreach (var parameter in (contentType ?? "").Split(';').Skip(1))
        {
            var pair = parameter.Split('=', 2);
            if (pair.Length == 2 && pair[0].Trim().Equals("charset", StringComparison.OrdinalIgnoreCase))
            {
                return pair[1].Trim().Trim('"');
            }
        }

        return null;
    }

    public static string Describe(DocumentKind kind) => kind switch
    {
        DocumentKind.Pdf => "PDF",
        DocumentKind.Docx => "Word document",
        DocumentKind.Pptx => "PowerPoint presentation",
        DocumentKind.Xlsx => "Excel workbook",
        DocumentKind.Email => "e-mail",
        DocumentKind.Mbox => "mbox archive",
        DocumentKind.Html => "HTML page",
        DocumentKind.Markdown => "Markdown document",
        DocumentKind.Csv => "CSV file",
        DocumentKind.Json => "JSON document",
        DocumentKind.PlainText => "text document",
        DocumentKind.SlackThread => "Slack thread",
        DocumentKind.Image => "image",
        _ => "document"
    };

    private static DetectedType? FromMagic(byte[] bytes, string extension)
    {
        ReadOnlySpan<byte> content = bytes;
        // The PDF header may follow some junk; readers accept it within the first kilobyte.
        if (content[..Math.Min(content.Length, 1024)].IndexOf("%PDF-"u8) >= 0)
        {
            return new DetectedType(DocumentKind.Pdf, "PDF");
        }

        if (content.StartsWith("PK\x03\x04"u8))
        {
            return FromZip(bytes, extension);
        }

        if (content.StartsWith((ReadOnlySpan<byte>)[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]))
        {
            // Password-protected Office files are OLE containers holding an encrypted package, whatever their extension.
            if (extension.ToLowerInvariant() is ".docx" or ".pptx" or ".xlsx" or ".docm" or ".pptm" or ".xlsm")
            {
                return DetectedType.Unsupported("encrypted Office file",
                    "The Office file is password-protected (encrypted); remove the password and upload it again.");
            }

            var what = UnsupportedByExtension.GetValueOrDefault(extension) ?? "legacy Microsoft Office / Outlook (OLE) file";
            return DetectedType.Unsupported(what, $"{Capitalize(what)} is not a supported document type; save it as .docx, .pptx, .xlsx, .pdf or .eml.");
        }

        if (content.StartsWith("{\\rtf"u8))
        {
            return DetectedType.Unsupported("Rich Text Format document (.rtf)", "Rich Text Format document (.rtf) is not a supported document type; save it as .docx or .pdf.");
        }

        var image = content switch
        {
            [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "PNG image",
            [0xFF, 0xD8, 0xFF, ..] => "JPEG image",
            [(byte)'G', (byte)'I', (byte)'F', (byte)'8', ..] => "GIF image",
            [(byte)'I', (byte)'I', 0x2A, 0x00, ..] or [(byte)'M', (byte)'M', 0x00, 0x2A, ..] => "TIFF image",
            [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "WebP image",
            _ => null
        };
        if (image is not null)
        {
            return new DetectedType(DocumentKind.Image, image);
        }

        if (content.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B]) || content.StartsWith("Rar!"u8) || content.StartsWith((ReadOnlySpan<byte>)[0x37, 0x7A, 0xBC, 0xAF]))
        {
            return DetectedType.Unsupported("compressed archive", "Compressed archives are not a supported document type; upload the files inside it.");
        }

        return null;
    }

    private static DetectedType FromZip(byte[] content, string extension)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
            var contentTypes = ReadEntry(zip, "[Content_Types].xml", 1024 * 1024);
            if (contentTypes is not null)
            {
                if (contentTypes.Contains("wordprocessingml.document.main", StringComparison.OrdinalIgnoreCase)
                    || contentTypes.Contains("wordprocessingml.template.main", StringComparison.OrdinalIgnoreCase)
                    || contentTypes.Contains("ms-word.document.macroEnabled.main", StringComparison.OrdinalIgnoreCase)
                    || contentTypes.Contains("ms-word.template.macroEnabledTemplate.main", StringComparison.OrdinalIgnoreCase))
                {
                    return new DetectedType(DocumentKind.Docx, "Word document");
                }

                if (contentTypes.Contains("presentationml.presentation.main", StringComparison.OrdinalIgnoreCase)
                    || contentTypes.Contains("presentationml.slideshow.main", StringComparison.OrdinalIgnoreCase)
                    || contentTypes.Contains("presentationml.template.main", StringComparison.OrdinalIgnoreCase)
                    || contentTypes.Contains("ms-powerpoint.presentation.macroEnabled.main", StringComparison.OrdinalIgnoreCase))
                {
                    return new DetectedType(DocumentKind.Pptx, "PowerPoint presentation");
                }

                if (contentTypes.Contains("spreadsheetml.sheet.main", StringComparison.OrdinalIgnoreCase)
                    || contentTypes.Contains("spreadsheetml.template.main", StringComparison.OrdinalIgnoreCase)
                    || contentTypes.Contains("ms-excel.sheet.macroEnabled.main", StringComparison.OrdinalIgnoreCase))
                {
                    return new DetectedType(DocumentKind.Xlsx, "Excel workbook");
                }
            }

            if (ReadEntry(zip, "mimetype", 256)?.Trim() is { } mimeType && OdfMimeTypes.TryGetValue(mimeType, out var odf))
            {
                return DetectedType.Unsupported(odf, $"{Capitalize(odf)} is not a supported document type.");
            }

            // A package whose content types went missing: trust the extension and let the Office parser say what is wrong.
            if (ByExtension.TryGetValue(extension, out var kind) && kind is DocumentKind.Docx or DocumentKind.Pptx or DocumentKind.Xlsx)
            {
                return new DetectedType(kind, Describe(kind));
            }

            if (UnsupportedByExtension.TryGetValue(extension, out var named))
            {
                return DetectedType.Unsupported(named, $"{Capitalize(named)} is not a supported document type.");
            }

            return DetectedType.Unsupported("zip archive", "A zip archive is not a supported document type; upload the files inside it.");
        }
        catch (InvalidDataException ex)
        {
            if (ByExtension.TryGetValue(extension, out var kind) && kind is DocumentKind.Docx or DocumentKind.Pptx or DocumentKind.Xlsx)
            {
                return new DetectedType(kind, Describe(kind));
            }

            return DetectedType.Unsupported("damaged zip archive", $"The file looks like a zip archive but cannot be opened: {ex.Message}");
        }
    }

    private static string? ReadEntry(ZipArchive zip, string name, int maxBytes)
    {
        var entry = zip.GetEntry(name) ?? zip.Entries.FirstOrDefault(e => e.FullName.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (entry is null)
        {
            return null;
        }

        using var stream = entry.Open();
        var buffer = new byte[Math.Min(maxBytes, Math.Max(0, (int)Math.Min(entry.Length, maxBytes)))];
        var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    /// <summary>A label is believed only when the bytes do not contradict it: an Office label needs a zip, a PDF label binary.</summary>
    private static bool Fits(DocumentKind kind, ReadOnlySpan<byte> content) => kind switch
    {
        DocumentKind.Docx or DocumentKind.Pptx or DocumentKind.Xlsx => content.IsEmpty || content.StartsWith("PK"u8),
        // A "PDF" without its header: binary goes to the PDF reader (which says what is wrong), text is sniffed.
        DocumentKind.Pdf => !LooksLikeText(content),
        _ => true
    };

    private static DetectedType Sniff(ReadOnlySpan<byte> content, string contentType, string extension)
    {
        if (!LooksLikeText(content))
        {
            var what = contentType is "" or "application/octet-stream" ? (extension.Length > 0 ? $"'{extension}' file" : "binary file") : contentType;
            return DetectedType.Unsupported(what, $"The {what} is not a supported document type (it is binary, not text).");
        }

        var head = TextDecoding.Decode(content[..Math.Min(content.Length, 4096)]).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (head.StartsWith("<!DOCTYPE html", StringComparison.OrdinalIgnoreCase)
            || head.StartsWith("<html", StringComparison.OrdinalIgnoreCase)
            || head.StartsWith("<head", StringComparison.OrdinalIgnoreCase)
            || head.StartsWith("<body", StringComparison.OrdinalIgnoreCase)
            || (head.StartsWith('<') && head.Contains("<html", StringComparison.OrdinalIgnoreCase)))
        {
            return new DetectedType(DocumentKind.Html, "HTML page");
        }

        if (head.StartsWith("From ", StringComparison.Ordinal) && LooksLikeMessageHeaders(head[(head.IndexOf('\n') + 1)..]))
        {
            return new DetectedType(DocumentKind.Mbox, "mbox archive");
        }

        if (LooksLikeMessageHeaders(head))
        {
            return new DetectedType(DocumentKind.Email, "e-mail");
        }

        if ((head.StartsWith('{') || head.StartsWith('[')) && extension is "" or ".jsonl" or ".ndjson")
        {
            return new DetectedType(DocumentKind.Json, "JSON document");
        }

        return new DetectedType(DocumentKind.PlainText, "text document");
    }

    /// <summary>RFC 822 headers: the first lines are "Name: value" with a name mail software writes.</summary>
    internal static bool LooksLikeMessageHeaders(string head)
    {
        string[] known = ["from", "to", "subject", "date", "received", "return-path", "message-id", "mime-version", "delivered-to", "x-", "reply-to", "cc", "content-type", "sender", "dkim-signature", "arc-"];
        var lines = head.Split('\n', 12);
        var headers = 0;
        foreach (var raw in lines.Take(10))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                break;
            }

            if (line[0] is ' ' or '\t')
            {
                continue;
            }

            var colon = line.IndexOf(':');
            if (colon <= 0 || line[..colon].Contains(' '))
            {
                return false;
            }

            var name = line[..colon].ToLowerInvariant();
            if (known.Any(k => k.EndsWith('-') ? name.StartsWith(k, StringComparison.Ordinal) : name == k))
            {
                headers++;
            }
        }

        return headers >= 2;
    }

    internal static bool LooksLikeText(ReadOnlySpan<byte> content)
    {
        if (TextDecoding.HasWideEncoding(content))
        {
            return true;
        }

        var sample = content[..Math.Min(content.Length, 8192)];
        var control = 0;
        foreach (var b in sample)
        {
            if (b == 0)
            {
                return false;
            }

            if (b < 0x20 && b is not (byte)'\n' and not (byte)'\r' and not (byte)'\t' and not 0x0C and not 0x1B)
            {
                control++;
            }
        }

        return control <= sample.Length / 100;
    }

    private static string Capitalize(string value) => value.Length == 0 ? value : char.ToUpperInvariant(value[0]) + value[1..];
}
