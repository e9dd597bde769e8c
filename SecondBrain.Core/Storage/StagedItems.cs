using System.Buffers.Binary;
using System.Text.Json;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Storage;

/// <summary>One entry of an archive as an import reads it: an item to store, or a failure with its reason.</summary>
public readonly record struct ArchiveRecord(SourceItem? Item, SourceItemFailure? Failure)
{
    public static ArchiveRecord Of(SourceItem item) => new(item, null);

    public static ArchiveRecord Failed(string externalId, string reason) => new(null, new SourceItemFailure(externalId, reason));

    public static ArchiveRecord From((SourceItem? Item, SourceItemFailure? Failure) result) => new(result.Item, result.Failure);
}

/// <summary>
/// The staged form of an archive: its records one after another, then a trailer with the counts. Each record is a
/// frame (a little-endian length and a JSON header, then a length and the raw content bytes, -1 for none), so a page
/// is read from a byte offset without touching the records before it, and content stays raw bytes rather than
/// base64. The trailer is a zero header length followed by the item and failure counts.
/// </summary>
public static class StagedItems
{
    private const int TrailerBytes = 4 + 8 + 8;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private sealed record Header(
        string Id, string? Title, string? Author, DateTimeOffset? CreatedAt, string? ContentType, string? Text,
        Dictionary<string, string>? Metadata, bool Deleted, string? Reason);

    public static async Task WriteAsync(Stream output, ArchiveRecord record, CancellationToken ct)
    {
        var header = record.Item is { } item
            ? new Header(item.ExternalId, item.Title, item.Author, item.CreatedAt, item.ContentType, item.Text,
                item.Metadata.ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal), item.Deleted, null)
            : new Header(record.Failure!.ExternalId, null, null, null, null, null, null, false, record.Failure.Reason);
        var json = JsonSerializer.SerializeToUtf8Bytes(header, Json);
        var content = record.Item?.Content;
        var lengths = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(lengths, json.Length);
        await output.WriteAsync(lengths, ct);
        await output.WriteAsync(json, ct);
        BinaryPrimitives.WriteInt32LittleEndian(lengths, content?.Length ?? -1);
        await output.WriteAsync(lengths, ct);
        if (content is { Length: > 0 })
        {
            await output.WriteAsync(content, ct);
        }
    }

    public static async Task WriteTrailerAsync(Stream output, long items, long failures, CancellationToken ct)
    {
        var trailer = new byte[TrailerBytes];
        BinaryPrimitives.WriteInt64LittleEndian(trailer.AsSpan(4), items);
        BinaryPrimitives.WriteInt64LittleEndian(trailer.AsSpan(12), failures);
        await output.WriteAsync(trailer, ct);
    }

    /// <summary>The counts in the trailer of a staged blob (seeks to its end).</summary>
    public static (long Items, long Failures) ReadTrailer(Stream input)
    {
        if (input.Length < TrailerBytes)
        {
            throw new InvalidDataException("The staged import has no trailer.");
        }

        input.Seek(-TrailerBytes, SeekOrigin.End);
        Span<byte> trailer = stackalloc byte[TrailerBytes];
        input.ReadExactly(trailer);
        if (BinaryPrimitives.ReadInt32LittleEndian(trailer) != 0)
        {
            throw new InvalidDataException("The staged import's trailer is damaged.");
        }

        return (BinaryPrimitives.ReadInt64LittleEndian(trailer[4..]), BinaryPrimitives.ReadInt64LittleEndian(trailer[12..]));
    }

    /// <summary>The record at the stream's position, or null at the trailer; the stream is left after it.</summary>
    public static ArchiveRecord? Read(Stream input)
    {
        Span<byte> length = stackalloc byte[4];
        input.ReadExactly(length);
        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(length);
        if (headerLength == 0)
        {
            return null;
        }

        if (headerLength < 0 || headerLength > 64 * 1024 * 1024)
        {
            throw new InvalidDataException("The staged import is damaged (a record header has an impossible length).");
        }

        var json = new byte[headerLength];
        input.ReadExactly(json);
        var header = JsonSerializer.Deserialize<Header>(json, Json) ?? throw new InvalidDataException("The staged import has an empty record.");
        input.ReadExactly(length);
        var contentLength = BinaryPrimitives.ReadInt32LittleEndian(length);
        byte[]? content = null;
        if (contentLength >= 0)
        {
            content = new byte[contentLength];
            input.ReadExactly(content);
        }

        if (header.Reason is not null)
        {
            return ArchiveRecord.Failed(header.Id, header.Reason);
        }

        return ArchiveRecord.Of(new SourceItem(header.Id, header.Title ?? "", header.Author, header.CreatedAt, header.ContentType ?? "application/octet-stream",
            header.Text, content, header.Metadata ?? [], header.Deleted));
    }
}
