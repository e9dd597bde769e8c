using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace SecondBrain.Core.Storage;

/// <summary>
/// How an uploaded archive (e-mail archive, Slack export) is imported, and the limits that keep a crafted one from
/// exhausting a worker: entries, bytes inflated in total, and the ratio of inflated to compressed bytes. Bound from
/// <c>Sync:Archives</c>, which the AppHost passes to every service.
/// </summary>
public sealed class ArchiveImportOptions
{
    public const string SectionName = "Sync:Archives";

    /// <summary>Items (and failures) per stored page of an import.</summary>
    [Range(1, 10_000)]
    public int PageSize { get; set; } = 100;

    /// <summary>A page also ends once its items carry this many bytes, so a page of large messages stays small in memory.</summary>
    [Range(64 * 1024, 1024L * 1024 * 1024)]
    public long MaxPageBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Entries in one zip; a zip listing more is refused before anything is inflated.</summary>
    [Range(1, 10_000_000)]
    public int MaxEntries { get; set; } = 250_000;

    /// <summary>Bytes inflated from one zip in total; an archive that inflates to more fails its run.</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long MaxInflatedBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// Inflated bytes per compressed byte of one entry. Mail and chat logs compress 3-15 times; a zip bomb compresses
    /// hundreds or thousands of times. Checked once an entry has inflated <see cref="RatioFloorBytes"/>, as tiny
    /// repetitive files legitimately compress far.
    /// </summary>
    [Range(2, 100_000)]
    public int MaxCompressionRatio { get; set; } = 100;

    [Range(0, long.MaxValue)]
    public long RatioFloorBytes { get; set; } = 1024 * 1024;
}

/// <summary>An archive above one of the <see cref="ArchiveImportOptions"/> limits; the reason names the limit.</summary>
public sealed class ArchiveLimitException(string reason) : Exception(reason);

/// <summary>
/// Counts what one archive inflates, entry by entry, against the limits: wrap each entry's stream with
/// <see cref="Open"/>. An entry above its own size limit or the ratio throws <see cref="ArchiveLimitException"/> for
/// that entry (its caller records a failed item); the archive above its total throws it with
/// <see cref="ArchiveTotalExceeded"/> set (the whole import fails). Bytes are counted as they are read, not as the zip
/// claims, so a lying header gains nothing.
/// </summary>
public sealed class InflationBudget(ArchiveImportOptions options, string archiveName)
{
    private long _inflated;

    public long Inflated => _inflated;

    public bool ArchiveTotalExceeded { get; private set; }

    /// <summary>A read-only stream over <paramref name="inflating"/> that enforces the limits while it is read.</summary>
    public Stream Open(Stream inflating, string entryName, long compressedBytes, long maxEntryBytes) =>
        new GuardStream(inflating, this, entryName, Math.Max(1, compressedBytes), maxEntryBytes);

    /// <summary>Refuses an archive that lists more entries than allowed, before any is read.</summary>
    public void CheckEntryCount(int entries)
    {
        if (entries > options.MaxEntries)
        {
            ArchiveTotalExceeded = true;
            throw new ArchiveLimitException(string.Create(CultureInfo.InvariantCulture,
                $"'{archiveName}' lists {entries} entries, more than the limit of {options.MaxEntries} (Sync:Archives:MaxEntries)."));
        }
    }

    private void Count(int bytes, GuardStream entry)
    {
        _inflated += bytes;
        entry.Inflated += bytes;
        if (_inflated > options.MaxInflatedBytes)
        {
            ArchiveTotalExceeded = true;
            throw new ArchiveLimitException(string.Create(CultureInfo.InvariantCulture,
                $"'{archiveName}' inflates to more than {Megabytes(options.MaxInflatedBytes)} MB, the limit per archive (Sync:Archives:MaxInflatedBytes); it looks like a zip bomb and was not imported."));
        }

        if (entry.Inflated > entry.MaxBytes)
        {
            throw new ArchiveLimitException(string.Create(CultureInfo.InvariantCulture,
                $"{entry.Name} inflates to more than {Megabytes(entry.MaxBytes)} MB, the limit per entry."));
        }

        if (entry.Inflated > options.RatioFloorBytes && entry.Inflated > entry.CompressedBytes * options.MaxCompressionRatio)
        {
            throw new ArchiveLimitException(string.Create(CultureInfo.InvariantCulture,
                $"{entry.Name} inflates more than {options.MaxCompressionRatio} times its compressed size of {entry.CompressedBytes} bytes (Sync:Archives:MaxCompressionRatio); it looks like a zip bomb and was skipped."));
        }
    }

    private static string Megabytes(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture);

    private sealed class GuardStream(Stream inner, InflationBudget budget, string name, long compressedBytes, long maxBytes) : Stream
    {
        public string Name { get; } = name;
        public long CompressedBytes { get; } = compressedBytes;
        public long MaxBytes { get; } = maxBytes;
        public long Inflated { get; set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => Inflated;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            budget.Count(read, this);
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            budget.Count(read, this);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
