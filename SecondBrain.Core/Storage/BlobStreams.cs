using System.Buffers;
using System.Globalization;

namespace SecondBrain.Core.Storage;

/// <summary>Where a <see cref="BlobReadStream"/> gets its chunks: fills the buffer with chunk <c>index</c>, returns its size.</summary>
internal interface IChunkSource : IDisposable
{
    int Fetch(int index, byte[] buffer);
}

/// <summary>
/// The write side of a blob: collects writes into one chunk-sized buffer and hands each full chunk to
/// <c>flush</c>, so a writer of any size holds one chunk. Write-only and asynchronous (a synchronous write would
/// block a thread on the database); more than <c>maxBytes</c> throws <see cref="BlobTooLargeException"/>.
/// </summary>
internal sealed class BlobWriteStream(int chunkBytes, long maxBytes, string key, Func<int, ReadOnlyMemory<byte>, CancellationToken, Task> flush) : Stream
{
    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(chunkBytes);
    private int _filled;
    private int _chunks;
    private long _length;
    private bool _completed;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_completed;
    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_length + buffer.Length > maxBytes)
        {
            throw new BlobTooLargeException(maxBytes, string.Create(CultureInfo.InvariantCulture,
                $"'{key}' is larger than the limit of {maxBytes} bytes."));
        }

        while (!buffer.IsEmpty)
        {
            var take = Math.Min(chunkBytes - _filled, buffer.Length);
            buffer.Span[..take].CopyTo(_buffer.AsSpan(_filled));
            _filled += take;
            _length += take;
            buffer = buffer[take..];
            if (_filled == chunkBytes)
            {
                await FlushChunkAsync(cancellationToken);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Stores the last, partial chunk. The stream takes no writes after it.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (!_completed && _filled > 0)
        {
            await FlushChunkAsync(cancellationToken);
        }

        _completed = true;
    }

    private async Task FlushChunkAsync(CancellationToken cancellationToken)
    {
        await flush(_chunks, _buffer.AsMemory(0, _filled), cancellationToken);
        _chunks++;
        _filled = 0;
    }

    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("Blob writes are asynchronous.");

    public override void Flush()
    {
        // Chunks are stored as they fill; nothing is pending that a flush could send early.
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _completed = true;
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// The read side of a blob: seekable, read-only, one chunk in memory. Reading forward fetches each chunk once; a
/// seek into the current chunk costs nothing, a seek elsewhere fetches that chunk on the next read (zip readers jump
/// to the central directory and back; mbox pages start at an offset).
/// </summary>
internal sealed class BlobReadStream(long length, int chunkSize, IChunkSource source) : Stream
{
    private readonly byte[] _chunk = ArrayPool<byte>.Shared.Rent(chunkSize);
    private int _chunkIndex = -1;
    private int _chunkLength;
    private long _position;
    private bool _disposed;

    public override bool CanRead => !_disposed;
    public override bool CanSeek => !_disposed;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var total = 0;
        while (!buffer.IsEmpty && _position < length)
        {
            var index = (int)(_position / chunkSize);
            if (index != _chunkIndex)
            {
                _chunkLength = source.Fetch(index, _chunk);
                _chunkIndex = index;
            }

            var within = (int)(_position - (long)index * chunkSize);
            var take = Math.Min(buffer.Length, _chunkLength - within);
            if (take <= 0)
            {
                throw new InvalidDataException("The blob is shorter than its recorded length.");
            }

            _chunk.AsSpan(within, take).CopyTo(buffer);
            buffer = buffer[take..];
            _position += take;
            total += take;
        }

        return total;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        _position = target;
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            source.Dispose();
            ArrayPool<byte>.Shared.Return(_chunk);
        }

        base.Dispose(disposing);
    }
}
