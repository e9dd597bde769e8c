namespace SecondBrain.Core.Storage;

/// <summary>What a stored blob is: its name within the tenant, its size and when it was written.</summary>
public sealed record BlobInfo(string Key, long Length, DateTimeOffset CreatedAt);

/// <summary>
/// Durable byte storage for files too large to hold in memory: uploads, uploaded documents and the staged entries of
/// an archive import. Blobs belong to the scope's tenant and are named by a key ("uploads/{id}"). A write streams
/// its content in fixed-size pieces and becomes visible only when complete, replacing a blob of the same key in one
/// step, so a reader sees the old blob or the new one and never a part; a read streams it back a piece at a time.
/// One implementation today (<see cref="PostgresBlobStore"/>: chunk rows in Postgres, where every other durable
/// thing lives); an object store would fit the same contract.
/// </summary>
public interface IBlobStore
{
    /// <summary>
    /// Writes the blob <paramref name="key"/> with what <paramref name="write"/> puts in the stream it is given
    /// (write-only, asynchronous writes). More than <paramref name="maxBytes"/> throws
    /// <see cref="BlobTooLargeException"/> and stores nothing. Inside the caller's open transaction it joins it (the
    /// blob commits with the caller's rows); otherwise it commits on its own.
    /// </summary>
    Task<BlobInfo> WriteAsync(string key, Func<Stream, CancellationToken, Task> write, long maxBytes, CancellationToken cancellationToken);

    Task<BlobInfo?> GetInfoAsync(string key, CancellationToken cancellationToken);

    /// <summary>A seekable read-only stream over the blob that holds one piece in memory at a time; null when there is none.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// The whole blob, for readers that need it as one array (document parsers); null when there is none. Above
    /// <paramref name="maxBytes"/> it throws <see cref="BlobTooLargeException"/> without reading a byte.
    /// </summary>
    Task<byte[]?> ReadAllBytesAsync(string key, long maxBytes, CancellationToken cancellationToken);

    /// <summary>Removes the blob; false when there was none.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Keys of the tenant's blobs that start with <paramref name="prefix"/>, in key order, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<string>> ListKeysAsync(string prefix, int limit, CancellationToken cancellationToken);
}

/// <summary>Content above the limit the writer or reader set; nothing was stored (or read).</summary>
public sealed class BlobTooLargeException(long limit, string message) : Exception(message)
{
    public long Limit { get; } = limit;
}

public static class BlobStoreExtensions
{
    /// <summary>Streams <paramref name="content"/> into the blob (see <see cref="IBlobStore.WriteAsync"/>).</summary>
    public static Task<BlobInfo> PutAsync(this IBlobStore store, string key, Stream content, long maxBytes, CancellationToken cancellationToken) =>
        store.WriteAsync(key, (target, ct) => content.CopyToAsync(target, ct), maxBytes, cancellationToken);
}
