using System.IO.Compression;
using System.Text.Json;
using MimeKit;
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
/// Reads e-mail archives page by page, as pure functions over the archive's bytes. Every page is computed from the
/// bytes and the cursor alone, so a run resumed on another worker continues exactly where the last checkpoint was,
/// and external ids depend only on the archive's content (re-importing it updates, never duplicates):
/// the entry path for zip entries, <c>mbox:{index}</c> for mbox messages (<c>{path}/mbox:{index}</c> inside a zip)
/// and the file name for a single .eml.
/// </summary>
public static class EmailArchiveParser
{
    public const int DefaultPageSize = 100;

    /// <summary>A single message above this is recorded as a failure rather than loaded.</summary>
    public const long MaxMessageBytes = 64L * 1024 * 1024;

    /// <summary>An mbox inside a zip is decompressed whole; above this it is refused.</summary>
    public const long MaxMboxEntryBytes = 1024L * 1024 * 1024;

    private static readonly JsonSerializerOptions CursorJson = new(JsonSerializerDefaults.Web);
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
    /// One page of at most <paramref name="pageSize"/> messages starting at <paramref name="cursor"/> (null: the start).
    /// Unreadable messages become failures; an archive that cannot be read at all throws <see cref="InvalidSourceException"/>.
    /// </summary>
    public static SourcePage ReadPage(string fileName, byte[] content, string? cursor, int pageSize = DefaultPageSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var kind = Detect(fileName, content);
        var position = ParseCursor(cursor);
        return kind switch
        {
            EmailArchiveKind.Eml => ReadSingle(fileName, content),
            EmailArchiveKind.Mbox => ReadMboxFile(fileName, content, position, pageSize, cancellationToken),
            _ => ReadZip(fileName, content, position, pageSize, cancellationToken)
        };
    }

    private static SourcePage ReadSingle(string fileName, byte[] content)
    {
        var name = Path.GetFileName(fileName);
        var (item, failure) = MailItemFactory.FromRaw(name, StripEnvelope(content), new Dictionary<string, string> { ["path"] = name });
        return new SourcePage(item is null ? [] : [item], failure is null ? [] : [failure], null, 1, Stage: $"reading {name}");
    }

    private static SourcePage ReadMboxFile(string fileName, byte[] content, ArchivePosition position, int pageSize, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(fileName);
        var total = position.Total ?? CountMboxMessages(content);
        var items = new List<SourceItem>();
        var failures = new List<SourceItemFailure>();
        var chunk = ReadMbox(content, position.Offset, position.Index, pageSize, "", name, FolderOf(name), items, failures, cancellationToken);

        var next = chunk.Done ? null : Serialize(new ArchivePosition(0, chunk.NextOffset, chunk.NextIndex, total));
        return new SourcePage(items, failures, next, total, Stage: $"reading {name}");
    }

    private static SourcePage ReadZip(string fileName, byte[] content, ArchivePosition position, int pageSize, CancellationToken cancellationToken)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidSourceException($"'{fileName}' is not a readable zip archive: {ex.Message}", ex);
        }

        using (zip)
        {
            // Entry order in a zip depends on the tool that wrote it; sorting by path makes positions deterministic.
            var entries = zip.Entries
                .Select(e => (Path: NormalizePath(e.FullName), Entry: e))
                .Where(e => IsCandidate(e.Path, e.Entry))
                .OrderBy(e => e.Path, StringComparer.Ordinal)
                .ToList();

            var total = position.Total ?? CountZipMessages(entries, cancellationToken);
            if (total == 0)
            {
                throw new InvalidSourceException(
                    $"'{fileName}' holds no e-mail: expected .eml files, maildir folders (cur/, new/, or numbered files) or mbox files.");
            }

            var items = new List<SourceItem>();
            var failures = new List<SourceItemFailure>();
            var (index, offset, mboxIndex) = (position.Entry, position.Offset, position.Index);
            string? stage = null;

            while (index < entries.Count && items.Count + failures.Count < pageSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (path, entry) = entries[index];
                stage ??= $"reading {FolderOf(path)}";
                var entryKind = ClassifyEntry(path, entry, out var data, out var readError);
                if (readError is not null)
                {
                    failures.Add(new SourceItemFailure(path, readError));
                }
                else if (entryKind == EntryKind.Message)
                {
                    var (item, failure) = MailItemFactory.FromRaw(path, StripEnvelope(data!), new Dictionary<string, string>
                    {
                        ["path"] = path,
                        ["folder"] = FolderOf(path)
                    });
                    if (item is not null)
                    {
                        items.Add(item);
                    }

                    if (failure is not null)
                    {
                        failures.Add(failure);
                    }
                }
                else if (entryKind == EntryKind.Mbox)
                {
                    var room = pageSize - items.Count - failures.Count;
                    var chunk = ReadMbox(data!, offset, mboxIndex, room, $"{path}/", path, FolderOf(path), items, failures, cancellationToken);
                    if (!chunk.Done)
                    {
                        (offset, mboxIndex) = (chunk.NextOffset, chunk.NextIndex);
                        break;
                    }
                }

                (index, offset, mboxIndex) = (index + 1, 0, 0);
            }

            var next = index < entries.Count ? Serialize(new ArchivePosition(index, offset, mboxIndex, total)) : null;
            return new SourcePage(items, failures, next, total, Stage: stage ?? "reading archive");
        }
    }

    private enum EntryKind
    {
        Skip,
        Message,
        Mbox
    }

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

    /// <summary>What an entry holds, decided from its path and first bytes; the entry's bytes come back with it.</summary>
    private static EntryKind ClassifyEntry(string path, ZipArchiveEntry entry, out byte[]? data, out string? error)
    {
        data = null;
        error = null;
        var name = path[(path.LastIndexOf('/') + 1)..];
        var extension = Path.GetExtension(name);
        var isMboxName = extension.Equals(".mbox", StringComparison.OrdinalIgnoreCase) || extension.Equals(".mbx", StringComparison.OrdinalIgnoreCase);
        var limit = isMboxName || extension.Length == 0 ? MaxMboxEntryBytes : MaxMessageBytes;
        if (entry.Length > limit)
        {
            error = $"{path} is {entry.Length / (1024 * 1024)} MB uncompressed, above the {limit / (1024 * 1024)} MB limit.";
            return EntryKind.Skip;
        }

        try
        {
            data = new byte[entry.Length];
            using var stream = entry.Open();
            stream.ReadExactly(data);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or NotSupportedException)
        {
            data = null;
            error = $"{path} could not be decompressed: {ex.Message}";
            return EntryKind.Skip;
        }

        var parent = path.Split('/') is { Length: > 1 } segments ? segments[^2] : "";
        if (isMboxName)
        {
            return EntryKind.Mbox;
        }

        if (extension.Equals(".eml", StringComparison.OrdinalIgnoreCase) || parent is "cur" or "new")
        {
            return EntryKind.Message;
        }

        // Extensionless: an mbox (Thunderbird keeps folders as extensionless mbox files), a maildir message, or
        // something else that happens to sit in the archive (a README, dovecot index files) and is not mail.
        var head = SkipBom(data);
        return head.StartsWith(FromMarker) ? EntryKind.Mbox : LooksLikeMessage(head) ? EntryKind.Message : EntryKind.Skip;
    }

    private static long CountZipMessages(List<(string Path, ZipArchiveEntry Entry)> entries, CancellationToken cancellationToken)
    {
        long total = 0;
        foreach (var (path, entry) in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var kind = ClassifyEntry(path, entry, out var data, out var error);
            total += error is not null ? 1 : kind switch
            {
                EntryKind.Message => 1,
                EntryKind.Mbox => CountMboxMessages(data!),
                _ => 0
            };
        }

        return total;
    }

    private readonly record struct MboxChunk(bool Done, long NextOffset, int NextIndex);

    /// <summary>
    /// Reads up to <paramref name="max"/> messages of an mbox starting at the byte offset of a "From " line. The
    /// next position is the offset of the following message's "From " line, so resuming never re-parses the
    /// messages before it.
    /// </summary>
    private static MboxChunk ReadMbox(
        byte[] data, long offset, int index, int max, string idPrefix, string path, string folder,
        List<SourceItem> items, List<SourceItemFailure> failures, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(data, writable: false);
        stream.Position = offset;
        var parser = new MimeParser(stream, MimeFormat.Mbox);
        long begin = -1, end = -1;
        parser.MimeMessageEnd += (_, args) =>
        {
            if (args.Parent is null)
            {
                (begin, end) = (args.BeginOffset, args.EndOffset);
            }
        };

        for (var read = 0; read < max; read++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (parser.IsEndOfStream)
            {
                return new MboxChunk(true, 0, index);
            }

            var id = $"{idPrefix}mbox:{index}";
            try
            {
                parser.ParseMessage(cancellationToken);
            }
            catch (FormatException ex)
            {
                // Without the next "From " line nothing after this point can be located.
                failures.Add(new SourceItemFailure(id, $"The mbox cannot be read from message {index} on: {ex.Message}"));
                return new MboxChunk(true, 0, index);
            }

            if (begin < 0 || end < begin)
            {
                failures.Add(new SourceItemFailure(id, "The mbox parser reported no message boundaries."));
                return new MboxChunk(true, 0, index);
            }

            var raw = data.AsSpan((int)begin, (int)(end - begin)).ToArray();
            var (item, failure) = MailItemFactory.FromRaw(id, raw, new Dictionary<string, string>
            {
                ["path"] = path,
                ["folder"] = folder,
                ["mboxIndex"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture)
            });
            if (item is not null)
            {
                items.Add(item);
            }

            if (failure is not null)
            {
                failures.Add(failure);
            }

            index++;
        }

        if (parser.IsEndOfStream)
        {
            return new MboxChunk(true, 0, index);
        }

        // The page is full: parse one more message only to learn where its "From " line starts.
        try
        {
            parser.ParseMessage(cancellationToken);
            return new MboxChunk(false, parser.MboxMarkerOffset, index);
        }
        catch (FormatException ex)
        {
            failures.Add(new SourceItemFailure($"{idPrefix}mbox:{index}", $"The mbox cannot be read from message {index} on: {ex.Message}"));
            return new MboxChunk(true, 0, index);
        }
    }

    /// <summary>Messages in an mbox: lines starting with "From ", the same boundaries MimeKit's mbox parser uses.</summary>
    private static long CountMboxMessages(byte[] data)
    {
        long count = 0;
        var span = SkipBom(data);
        if (span.StartsWith(FromMarker))
        {
            count++;
        }

        var at = 0;
        while (true)
        {
            var newline = span[at..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                return count;
            }

            at += newline + 1;
            if (span[at..].StartsWith(FromMarker))
            {
                count++;
            }
        }
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

    /// <summary>Entry index in the sorted zip listing, byte offset and message index inside an mbox, and the total once counted.</summary>
    private sealed record ArchivePosition(int Entry, long Offset, int Index, long? Total);

    private static ArchivePosition ParseCursor(string? cursor)
    {
        if (cursor is null)
        {
            return new ArchivePosition(0, 0, 0, null);
        }

        try
        {
            var position = JsonSerializer.Deserialize<ArchivePosition>(cursor, CursorJson);
            if (position is { Entry: >= 0, Offset: >= 0, Index: >= 0 })
            {
                return position;
            }
        }
        catch (JsonException)
        {
        }

        throw new InvalidSourceException($"The import cursor is not one this importer wrote: {cursor}");
    }

    private static string Serialize(ArchivePosition position) => JsonSerializer.Serialize(position, CursorJson);
}
