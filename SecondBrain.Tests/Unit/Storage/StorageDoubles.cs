using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Integrations.Email;
using SecondBrain.Core.Integrations.Slack;
using SecondBrain.Core.Storage;
using SecondBrain.Core.Sync;

namespace SecondBrain.Tests.Unit.Storage;

/// <summary>
/// An <see cref="IBlobStore"/> in memory with the contract's semantics: a write is visible only once complete and
/// replaces the old blob in one step, over the limit it stores nothing; reads are seekable. Counts how often each
/// blob is opened, so tests can show an archive is read once per run.
/// </summary>
public sealed class InMemoryBlobStore : IBlobStore
{
    private readonly ConcurrentDictionary<string, (byte[] Bytes, DateTimeOffset At)> _blobs = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, int> Opens { get; } = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Keys => _blobs.Keys.ToList();

    public async Task<BlobInfo> WriteAsync(string key, Func<Stream, CancellationToken, Task> write, long maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new LimitedStream(maxBytes, key);
        await write(buffer, cancellationToken);
        (byte[] Bytes, DateTimeOffset At) entry = (buffer.ToArray(), DateTimeOffset.UtcNow);
        _blobs[key] = entry;
        return new BlobInfo(key, entry.Bytes.Length, entry.At);
    }

    public Task<BlobInfo?> GetInfoAsync(string key, CancellationToken cancellationToken) =>
        Task.FromResult(_blobs.TryGetValue(key, out var blob) ? new BlobInfo(key, blob.Bytes.Length, blob.At) : null);

    public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        if (!_blobs.TryGetValue(key, out var blob))
        {
            return Task.FromResult<Stream?>(null);
        }

        Opens.AddOrUpdate(key, 1, (_, n) => n + 1);
        return Task.FromResult<Stream?>(new MemoryStream(blob.Bytes, writable: false));
    }

    public Task<byte[]?> ReadAllBytesAsync(string key, long maxBytes, CancellationToken cancellationToken)
    {
        if (!_blobs.TryGetValue(key, out var blob))
        {
            return Task.FromResult<byte[]?>(null);
        }

        return blob.Bytes.Length > maxBytes
            ? throw new BlobTooLargeException(maxBytes, $"{key} is above {maxBytes} bytes.")
            : Task.FromResult<byte[]?>(blob.Bytes.ToArray());
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken) => Task.FromResult(_blobs.TryRemove(key, out _));

    public Task<IReadOnlyList<string>> ListKeysAsync(string prefix, int limit, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(_blobs.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).Take(limit).ToList());

    private sealed class LimitedStream(long maxBytes, string key) : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (Length + count > maxBytes)
            {
                throw new BlobTooLargeException(maxBytes, $"'{key}' is larger than the limit of {maxBytes} bytes.");
            }

            base.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer, offset, count);
            return Task.CompletedTask;
        }
    }
}

/// <summary>Uploads kept in an <see cref="InMemoryBlobStore"/> under the real store's keys.</summary>
public sealed class InMemoryUploads(InMemoryBlobStore blobs) : IUploadStore
{
    private readonly ConcurrentDictionary<Guid, StoredUpload> _uploads = new();

    public Guid Add(string fileName, byte[] content, string contentType = "application/octet-stream")
    {
        var id = Guid.NewGuid();
        blobs.PutAsync(UploadStore.KeyOf(id), new MemoryStream(content), long.MaxValue, CancellationToken.None).GetAwaiter().GetResult();
        _uploads[id] = new StoredUpload(id, Guid.Empty, fileName, contentType, content.Length);
        return id;
    }

    public async Task<Guid> SaveAsync(Guid tenantId, string fileName, string contentType, Stream content, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        return Add(fileName, buffer.ToArray(), contentType);
    }

    public Task<StoredUpload?> FindAsync(Guid uploadId, CancellationToken cancellationToken) => Task.FromResult(_uploads.GetValueOrDefault(uploadId));

    public async Task<Stream?> OpenReadAsync(Guid uploadId, CancellationToken cancellationToken) =>
        _uploads.ContainsKey(uploadId) ? await blobs.OpenReadAsync(UploadStore.KeyOf(uploadId), cancellationToken) : null;
}

/// <summary>Import runs that are all over, except those listed as active.</summary>
public sealed class FakeImportRuns(params Guid[] active) : IImportRuns
{
    public Task<IReadOnlySet<Guid>> ActiveAsync(IReadOnlyCollection<Guid> runIds, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlySet<Guid>>(runIds.Where(active.Contains).ToHashSet());
}

/// <summary>Archive readers over in-memory storage, as a worker builds them (one per scope; they share nothing else).</summary>
public sealed class ImportHarness
{
    public ImportHarness(ArchiveImportOptions? options = null, IImportRuns? runs = null)
    {
        Options = options ?? new ArchiveImportOptions();
        Uploads = new InMemoryUploads(Blobs);
        Runs = runs ?? new FakeImportRuns();
    }

    public InMemoryBlobStore Blobs { get; } = new();
    public InMemoryUploads Uploads { get; }
    public IImportRuns Runs { get; }
    public ArchiveImportOptions Options { get; }

    public StagedImport Staged() => new(Uploads, Blobs, Runs, Microsoft.Extensions.Options.Options.Create(Options), NullLogger<StagedImport>.Instance);

    public EmailArchiveReader EmailReader() => new(Staged(), Microsoft.Extensions.Options.Options.Create(Options));

    public SlackExportReader SlackReader() => new(Staged(), Microsoft.Extensions.Options.Options.Create(Options));

    public static SourceReadContext Run(Guid uploadId, Guid? runId = null) => new(Guid.Empty, runId ?? Guid.NewGuid(), null, uploadId, null);

    /// <summary>Every page of a run from <paramref name="cursor"/> to the end.</summary>
    public static async Task<(List<SourceItem> Items, List<SourceItemFailure> Failures, List<SourcePage> Pages)> ReadAllAsync(
        ISourceReader reader, SourceReadContext run, string? cursor = null)
    {
        var items = new List<SourceItem>();
        var failures = new List<SourceItemFailure>();
        var pages = new List<SourcePage>();
        do
        {
            var page = await reader.ReadPageAsync(run, cursor, CancellationToken.None);
            pages.Add(page);
            items.AddRange(page.Items);
            failures.AddRange(page.Failures);
            cursor = page.NextCursor;
            Assert.True(pages.Count < 10_000, "the reader did not finish");
        }
        while (cursor is not null);

        return (items, failures, pages);
    }
}
