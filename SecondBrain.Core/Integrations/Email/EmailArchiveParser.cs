using System.Globalization;
using System.IO.Compression;
using SecondBrain.Core.Storage;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Email;

/// <summary>What an uploaded e-mail archive turned out to be.</summary>
public enum EmailArchiveKind
{
    /// <summary>One RFC 822 message.</summary>
    Eml,

    /// <summary>An mbox file: messages separated by "From " lines.</summary>
    Mbox,

    /// <summary>A zip of .eml files, maildir folders and/or mbox files.</summary>
    Zip
}

/// <summary>
/// Reads an e-mail archive as a stream of records, once, forwards, one message in memory at a time: what an import
/// stages (<see cref="StagedImport"/>). The order and the external ids depend only on the archive's content, so a
/// re-import updates instead of duplicating and a resumed run continues where it was: the entry path for zip entries
/// (sorted by path, whatever order the zip lists them in), <c>mbox:{index}</c> for mbox messages
/// (<c>{path}/mbox:{index}</c> inside a zip) and the file name for a single .eml. A zip is held to
/// <see cref="ArchiveImportOptions"/>: an entry that inflates too far is a failed item, an archive that does is an
/// <see cref="InvalidSourceException"/> (the run fails with the reason).
/// </summary>
public static class EmailArchiveParser
{
    /// <summary>A single message above this is recorded as a failure rather than loaded.</summary>
    public const long MaxMessageBytes = 64L * 1024 * 1024;

    /// <summary>An mbox inside a zip above this (inflated) is recorded as a failure; it is streamed, never held whole.</summary>
    public const long MaxMboxEntryBytes = 4L * 1024 * 1024 * 1024;

    private const int HeadBytes = 4096;
    private static readonly byte[] FromMarker = "From "u8.ToArray();
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];
    private static readonly byte[] GzipMagic = [0x1F, 0x8B];
    private static readonly byte[] SevenZipMagic = [0x37, 0x7A, 0xBC, 0xAF];
    private static readonly byte[] OleMagic = [0xD0, 0xCF, 0x11, 0xE0];

    /// <summary>The archive's kind from its magic bytes (then its name); <see cref="InvalidSourceException"/> when it is none.</summary>
    public static EmailArchiveKind Detect(string fileName, ReadOnlySpan<byte> content)
    {
        if (content.IsEmpty)
        {
            throw new InvalidSourceException($"'{fileName}' is empty.");
        }

        if (content.StartsWith("PK\x03\x04"u8) || content.StartsWith("PK\x05\x06"u8))
        {
            return EmailArchiveKind.Zip;
        }

        var text = SkipBom(content);
        if (text.StartsWith(FromMarker))
        {
            // An .eml saved with its mbox envelope line is still one message.
            return HasExtension(fileName, ".eml") ? EmailArchiveKind.Eml : EmailArchiveKind.Mbox;
        }

        if (LooksLikeMessage(text))
        {
            return EmailArchiveKind.Eml;
        }

        var what = content.StartsWith("%PDF"u8) ? "a PDF document"
            : content.StartsWith(GzipMagic) ? "a gzip file (unpack it or upload a zip)"
            : content.StartsWith("Rar!"u8) ? "a RAR archive (upload a zip)"
            : content.StartsWith(SevenZipMagic) ? "a 7-Zip archive (upload a zip)"
            : content.StartsWith(OleMagic) ? "an Outlook/OLE file (.msg/.pst are not supported; export .eml or mbox)"
            : "not an e-mail message";
        throw new InvalidSourceException(
            $"'{fileName}' is {what}. Upload a single .eml message, an mbox file, or a zip of .eml files, maildir folders or mbox files.");
    }

    /// <summary>
    /// The archive's records in order. <paramref name="archive"/> must be seekable (a zip's directory is at its
    /// end). Unreadable messages become failures; an archive that cannot be read at all throws
    /// <see cref="InvalidSourceException"/>.
    /// </summary>
    public static IEnumerable<ArchiveRecord> Read(string fileName, Stream archive, ArchiveImportOptions limits, CancellationToken cancellationToken)
    {
        var head = new byte[HeadBytes];
        archive.Position = 0;
        var headLength = archive.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        archive.Position = 0;
        var kind = Detect(fileName, head.AsSpan(0, headLength));
        var name = Path.GetFileName(fileName);
        return kind switch
        {
            EmailArchiveKind.Eml => [ReadSingle(name, archive)],
            EmailArchiveKind.Mbox => ReadMbox(SkipBom(archive, head.AsSpan(0, headLength)), "", name, FolderOf(name), cancellationToken),
            _ => ReadZip(fileName, archive, limits, cancellationToken)
        };
    }

    private static ArchiveRecord ReadSingle(string name, Stream archive)
    {
        if (archive.Length > MaxMessageBytes)
        {
            return ArchiveRecord.Failed(name, TooLarge(name, archive.Length, MaxMessageBytes));
        }

        var raw = new byte[archive.Length];
        archive.ReadExactly(raw);
        return ArchiveRecord.From(MailItemFactory.FromRaw(name, StripEnvelope(raw), new Dictionary<string, string> { ["path"] = name }));
    }

    private static IEnumerable<ArchiveRecord> ReadMbox(Stream mbox, string idPrefix, string path, string folder, CancellationToken cancellationToken)
    {
        foreach (var message in MboxSplitter.Split(mbox, MaxMessageBytes, cancellationToken))
        {
            var id = $"{idPrefix}mbox:{message.Index.ToString(CultureInfo.InvariantCulture)}";
            yield return message.Raw is null
                ? ArchiveRecord.Failed(id, message.Error!)
                : ArchiveRecord.From(MailItemFactory.FromRaw(id, message.Raw, new Dictionary<string, string>
                {
                    ["path"] = path,
                    ["folder"] = folder,
                    ["mboxIndex"] = message.Index.ToString(CultureInfo.InvariantCulture)
                }));
        }
    }

    private static IEnumerable<ArchiveRecord> ReadZip(string fileName, Stream archive, ArchiveImportOptions limits, CancellationToken cancellationToken)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(archive, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidSourceException($"'{fileName}' is not a readable zip archive: {ex.Message}", ex);
        }

        using (zip)
        {
            var budget = new InflationBudget(limits, Path.GetFileName(fileName));
            try
            {
                budget.CheckEntryCount(zip.Entries.Count);
            }
            catch (ArchiveLimitException ex)
            {
                throw new InvalidSourceException(ex.Message, ex);
            }

            // Entry order in a zip depends on the tool that wrote it; sorting by path makes positions deterministic.
            var entries = zip.Entries
                .Select(e => (Path: NormalizePath(e.FullName), Entry: e))
                .Where(e => IsCandidate(e.Path, e.Entry))
                .OrderBy(e => e.Path, StringComparer.Ordinal)
                .ToList();

            var records = 0;
            foreach (var (path, entry) in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var record in ReadEntry(path, entry, budget, cancellationToken))
                {
                    records++;
                    yield return record;
                }
            }

            if (records == 0)
            {
                throw new InvalidSourceException(
                    $"'{fileName}' holds no e-mail: expected .eml files, maildir folders (cur/, new/, or numbered files) or mbox files.");
            }
        }
    }

    /// <summary>
    /// The records of one zip entry: one message, the messages of an mbox, or none for a file that is not mail. An
    /// entry over its limits ends as a failure (after the records it gave before), an archive over its total throws.
    /// </summary>
    private static IEnumerable<ArchiveRecord> ReadEntry(string path, ZipArchiveEntry entry, InflationBudget budget, CancellationToken cancellationToken)
    {
        var name = path[(path.LastIndexOf('/') + 1)..];
        var extension = Path.GetExtension(name);
        var isMboxName = extension.Equals(".mbox", StringComparison.OrdinalIgnoreCase) || extension.Equals(".mbx", StringComparison.OrdinalIgnoreCase);
        var parent = path.Split('/') is { Length: > 1 } segments ? segments[^2] : "";
        var isMessageName = extension.Equals(".eml", StringComparison.OrdinalIgnoreCase) || parent is "cur" or "new";
        var limit = isMessageName ? MaxMessageBytes : MaxMboxEntryBytes;
        if (entry.Length > limit)
        {
            yield return ArchiveRecord.Failed(path, TooLarge(path, entry.Length, limit));
            yield break;
        }

        Stream? stream = null;
        IEnumerator<ArchiveRecord>? records = null;
        string? error = null;
        try
        {
            stream = budget.Open(entry.Open(), path, entry.CompressedLength, limit);
            var head = new byte[HeadBytes];
            var headLength = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            var start = head.AsSpan(0, headLength);
            var kind = isMboxName ? EntryKind.Mbox
                : isMessageName ? EntryKind.Message
                // Extensionless: an mbox (Thunderbird keeps folders as extensionless mbox files), a maildir message,
                // or something else that happens to sit in the archive (a README, dovecot index files) and is not mail.
                : SkipBom(start).StartsWith(FromMarker) ? EntryKind.Mbox
                : LooksLikeMessage(start) ? EntryKind.Message
                : EntryKind.Skip;
            var bom = kind == EntryKind.Mbox ? BomLength(start) : 0;
            var whole = new PrefixedStream(head.AsMemory(bom, headLength - bom), stream, leaveOpen: true);
            var entryRecords = kind switch
            {
                EntryKind.Message => ReadMessage(path, whole, limit),
                EntryKind.Mbox => ReadMbox(whole, $"{path}/", path, FolderOf(path), cancellationToken),
                _ => []
            };
            records = entryRecords.GetEnumerator();
        }
        catch (Exception ex) when (Unreadable(ex, budget))
        {
            error = Reason(path, ex);
        }

        using (stream)
        using (records)
        {
            while (records is not null && error is null)
            {
                ArchiveRecord next;
                try
                {
                    if (!records.MoveNext())
                    {
                        break;
                    }

                    next = records.Current;
                }
                catch (Exception ex) when (Unreadable(ex, budget))
                {
                    error = Reason(path, ex);
                    break;
                }

                yield return next;
            }
        }

        if (error is not null)
        {
            yield return ArchiveRecord.Failed(path, error);
        }
    }

    private enum EntryKind
    {
        Skip,
        Message,
        Mbox
    }

    private static IEnumerable<ArchiveRecord> ReadMessage(string path, Stream stream, long limit)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        if (buffer.Length > limit)
        {
            yield return ArchiveRecord.Failed(path, TooLarge(path, buffer.Length, limit));
            yield break;
        }

        yield return ArchiveRecord.From(MailItemFactory.FromRaw(path, StripEnvelope(buffer.ToArray()), new Dictionary<string, string>
        {
            ["path"] = path,
            ["folder"] = FolderOf(path)
        }));
    }

    /// <summary>
    /// A damaged entry or one over its own limits fails alone; the archive over its total is not caught here, so the
    /// import fails with the reason (<see cref="StagedImport"/>).
    /// </summary>
    private static bool Unreadable(Exception ex, InflationBudget budget) =>
        ex switch
        {
            ArchiveLimitException => !budget.ArchiveTotalExceeded,
            InvalidDataException or IOException or NotSupportedException => true,
            _ => false
        };

    private static string Reason(string path, Exception ex) =>
        ex is ArchiveLimitException ? ex.Message : $"{path} could not be decompressed: {ex.Message}";

    private static string TooLarge(string path, long bytes, long limit) => string.Create(CultureInfo.InvariantCulture,
        $"{path} is {bytes / (1024 * 1024)} MB uncompressed, above the {limit / (1024 * 1024)} MB limit.");

    /// <summary>
    /// Entries that may hold mail: .eml and .mbox files, anything inside a maildir's cur/ or new/, and files
    /// without an extension (maildir and CMU Enron "user/folder/N." files, Thunderbird's extensionless mbox files).
    /// </summary>
    private static bool IsCandidate(string path, ZipArchiveEntry entry)
    {
        if (path.EndsWith('/') || entry.Name.Length == 0)
        {
            return false;
        }

        var segments = path.Split('/');
        if (segments.Any(s => s.StartsWith('.')) || segments[0] == "__MACOSX")
        {
            return false;
        }

        var parent = segments.Length > 1 ? segments[^2] : "";
        if (parent == "tmp")
        {
            // Maildir deliveries in progress; never complete messages.
            return false;
        }

        var extension = Path.GetExtension(segments[^1]);
        return parent is "cur" or "new"
            || extension.Length == 0
            || extension.Equals(".eml", StringComparison.OrdinalIgnoreCase)
            || extension.Equals(".mbox", StringComparison.OrdinalIgnoreCase)
            || extension.Equals(".mbx", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>True when the first line is a header field ("Name: value") and the start is text, not binary.</summary>
    private static bool LooksLikeMessage(ReadOnlySpan<byte> content)
    {
        var head = content[..Math.Min(content.Length, 4096)];
        if (head.IndexOf((byte)0) >= 0)
        {
            return false;
        }

        var lineEnd = head.IndexOfAny((byte)'\r', (byte)'\n');
        var line = lineEnd < 0 ? head : head[..lineEnd];
        var colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }

        // RFC 5322 field names: printable ASCII except the colon; trailing spaces before it are tolerated.
        var name = line[..colon].TrimEnd(" \t"u8);
        if (name.IsEmpty)
        {
            return false;
        }

        foreach (var b in name)
        {
            if (b < 33 || b > 126)
            {
                return false;
            }
        }

        return true;
    }

    private static int BomLength(ReadOnlySpan<byte> content) => content.StartsWith(Utf8Bom) ? Utf8Bom.Length : 0;

    /// <summary>The stream positioned after a UTF-8 byte order mark, so the first "From " line is seen as one.</summary>
    private static Stream SkipBom(Stream stream, ReadOnlySpan<byte> head)
    {
        stream.Position = BomLength(head);
        return stream;
    }

    /// <summary>Drops a leading mbox envelope line ("From sender date") that some tools keep in .eml and maildir files.</summary>
    private static byte[] StripEnvelope(byte[] content)
    {
        var span = SkipBom(content);
        if (!span.StartsWith(FromMarker))
        {
            return content;
        }

        var newline = span.IndexOf((byte)'\n');
        return newline < 0 ? [] : span[(newline + 1)..].ToArray();
    }

    private static ReadOnlySpan<byte> SkipBom(ReadOnlySpan<byte> content) =>
        content.StartsWith(Utf8Bom) ? content[3..] : content;

    private static string NormalizePath(string fullName) => fullName.Replace('\\', '/').TrimStart('/');

    /// <summary>The mail folder of a path: its directory, without maildir's cur/new, or an mbox's name without extension.</summary>
    private static string FolderOf(string path)
    {
        var segments = path.Split('/').ToList();
        var name = segments[^1];
        segments.RemoveAt(segments.Count - 1);
        if (segments.Count > 0 && segments[^1] is "cur" or "new")
        {
            segments.RemoveAt(segments.Count - 1);
        }

        var extension = Path.GetExtension(name);
        if (extension.Equals(".mbox", StringComparison.OrdinalIgnoreCase) || extension.Equals(".mbx", StringComparison.OrdinalIgnoreCase))
        {
            segments.Add(Path.GetFileNameWithoutExtension(name));
        }

        return string.Join('/', segments);
    }

    private static bool HasExtension(string fileName, string extension) =>
        Path.GetExtension(fileName).Equals(extension, StringComparison.OrdinalIgnoreCase);
}
