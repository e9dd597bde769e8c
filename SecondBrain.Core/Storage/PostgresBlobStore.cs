using System.Data;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using SecondBrain.Core.Data;

namespace SecondBrain.Core.Storage;

/// <summary>
/// Blobs as rows of fixed-size chunks in Postgres (<c>blobs</c>, <c>blob_chunks</c>), the store that is there in
/// every mode. A write inserts a chunk as soon as one is full, so the writer holds one chunk, not the file; the blob
/// row and its chunks commit in one transaction, replacing the previous blob of that key, so a half-written blob is
/// never seen and an interrupted write leaves nothing. A read fetches one chunk per round trip. Every statement is
/// tenant-bound through <see cref="TenantSql"/>. Scoped, like the DbContext whose connection it uses.
/// </summary>
public sealed class PostgresBlobStore(SecondBrainDbContext db) : IBlobStore
{
    /// <summary>1 MiB: few round trips for a large file, little memory per reader or writer.</summary>
    public const int ChunkBytes = 1024 * 1024;

    public async Task<BlobInfo> WriteAsync(string key, Func<Stream, CancellationToken, Task> write, long maxBytes, CancellationToken cancellationToken)
    {
        ValidateKey(key);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (db.Database.CurrentTransaction is not null)
        {
            return await WriteInTransactionAsync(key, write, maxBytes, cancellationToken);
        }

        return await SingleAttempt.InTransactionAsync(db, ct => WriteInTransactionAsync(key, write, maxBytes, ct), cancellationToken);
    }

    private async Task<BlobInfo> WriteInTransactionAsync(string key, Func<Stream, CancellationToken, Task> write, long maxBytes, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        var createdAt = DateTimeOffset.UtcNow;
        // The old blob's chunks go with it (ON DELETE CASCADE); the unique (tenant, key) index makes a concurrent writer
        // of the same key wait for this transaction and then fail, never interleave.
        await using (var replace = await db.TenantCommandAsync("""
            DELETE FROM blobs WHERE tenant_id = @tenant AND key = @key;
            INSERT INTO blobs (id, tenant_id, key, length, chunk_size, created_at) VALUES (@id, @tenant, @key, 0, @chunk, @created);
            """, ct))
        {
            replace.With("key", key).With("id", id).With("chunk", ChunkBytes).With("created", createdAt);
            await replace.ExecuteNonQueryAsync(ct);
        }

        await using var insert = await db.TenantCommandAsync(
            "INSERT INTO blob_chunks (blob_id, seq, tenant_id, data) VALUES (@blob, @seq, @tenant, @data)", ct);
        insert.With("blob", id);
        var seq = new NpgsqlParameter<int>("seq", NpgsqlDbType.Integer);
        var data = new NpgsqlParameter<ReadOnlyMemory<byte>>("data", NpgsqlDbType.Bytea);
        insert.Parameters.Add(seq);
        insert.Parameters.Add(data);

        long length;
        await using (var stream = new BlobWriteStream(ChunkBytes, maxBytes, key, async (index, chunk, token) =>
        {
            seq.TypedValue = index;
            data.TypedValue = chunk;
            await insert.ExecuteNonQueryAsync(token);
        }))
        {
            await write(stream, ct);
            await stream.CompleteAsync(ct);
            length = stream.Length;
        }

        await using (var finish = await db.TenantCommandAsync("UPDATE blobs SET length = @length WHERE id = @id AND tenant_id = @tenant", ct))
        {
            finish.With("length", length).With("id", id);
            await finish.ExecuteNonQueryAsync(ct);
        }

        return new BlobInfo(key, length, createdAt);
    }

    public async Task<BlobInfo?> GetInfoAsync(string key, CancellationToken cancellationToken) =>
        await FindAsync(key, cancellationToken) is { } row ? new BlobInfo(key, row.Length, row.CreatedAt) : null;

    public async Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        if (await FindAsync(key, cancellationToken) is not { } row)
        {
            return null;
        }

        // One prepared statement, re-executed per chunk: parsers read synchronously (zip, MIME), so the stream
        // fetches synchronously too, on the connection this scope already has open.
        var command = await db.TenantCommandAsync("SELECT data FROM blob_chunks WHERE blob_id = @blob AND seq = @seq AND tenant_id = @tenant", cancellationToken);
        command.With("blob", row.Id);
        var seq = new NpgsqlParameter<int>("seq", NpgsqlDbType.Integer);
        command.Parameters.Add(seq);
        return new BlobReadStream(row.Length, row.ChunkSize, new ChunkFetcher(db, command, seq));
    }

    public async Task<byte[]?> ReadAllBytesAsync(string key, long maxBytes, CancellationToken cancellationToken)
    {
        if (await FindAsync(key, cancellationToken) is not { } row)
        {
            return null;
        }

        if (row.Length > maxBytes || row.Length > Array.MaxLength)
        {
            throw new BlobTooLargeException(maxBytes, string.Create(CultureInfo.InvariantCulture,
                $"The stored file is {row.Length} bytes, above the limit of {maxBytes} bytes."));
        }

        var content = new byte[row.Length];
        await using var command = await db.TenantCommandAsync("SELECT data FROM blob_chunks WHERE blob_id = @blob AND tenant_id = @tenant ORDER BY seq", cancellationToken);
        command.With("blob", row.Id);
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken);
        var offset = 0L;
        while (await reader.ReadAsync(cancellationToken))
        {
            // Straight from the wire into the array: no per-chunk buffer.
            await using var column = await reader.GetStreamAsync(0, cancellationToken);
            offset += await column.ReadAtLeastAsync(content.AsMemory((int)offset), content.Length - (int)offset, throwOnEndOfStream: false, cancellationToken);
            if (column.ReadByte() >= 0)
            {
                throw new InvalidDataException($"The blob '{key}' has more bytes in its chunks than its recorded length.");
            }
        }

        return offset == content.Length ? content : throw new InvalidDataException($"The blob '{key}' is missing chunks.");
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        await using var command = await db.TenantCommandAsync("DELETE FROM blobs WHERE tenant_id = @tenant AND key = @key", cancellationToken);
        command.With("key", key);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<IReadOnlyList<string>> ListKeysAsync(string prefix, int limit, CancellationToken cancellationToken)
    {
        // A range on the unique (tenant_id, key) index rather than LIKE, so a prefix with '%' or '_' means itself.
        await using var command = await db.TenantCommandAsync(
            "SELECT key FROM blobs WHERE tenant_id = @tenant AND key >= @prefix AND left(key, @length) = @prefix ORDER BY key LIMIT @limit", cancellationToken);
        command.With("prefix", prefix).With("length", prefix.Length).With("limit", limit);
        var keys = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    private sealed record Row(Guid Id, long Length, int ChunkSize, DateTimeOffset CreatedAt);

    private async Task<Row?> FindAsync(string key, CancellationToken ct)
    {
        await using var command = await db.TenantCommandAsync("SELECT id, length, chunk_size, created_at FROM blobs WHERE tenant_id = @tenant AND key = @key", ct);
        command.With("key", key);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new Row(reader.GetGuid(0), reader.GetInt64(1), reader.GetInt32(2), reader.GetFieldValue<DateTimeOffset>(3))
            : null;
    }

    private static void ValidateKey(string key)
    {
        if (string.IsNullOrWhiteSpace(key) || key.Length > BlobModel.MaxKeyLength)
        {
            throw new ArgumentException($"A blob key is 1 to {BlobModel.MaxKeyLength} characters.", nameof(key));
        }
    }

    /// <summary>Fetches one chunk into the reader's buffer with the prepared statement, in the scope's current transaction if any.</summary>
    private sealed class ChunkFetcher(SecondBrainDbContext db, NpgsqlCommand command, NpgsqlParameter<int> seq) : IChunkSource
    {
        public int Fetch(int index, byte[] buffer)
        {
            if (command.Connection is { State: not ConnectionState.Open })
            {
                db.Database.OpenConnection();
            }

            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction() as NpgsqlTransaction;
            seq.TypedValue = index;
            using var reader = command.ExecuteReader(CommandBehavior.SequentialAccess);
            if (!reader.Read())
            {
                throw new InvalidDataException($"Blob chunk {index} is missing.");
            }

            using var column = reader.GetStream(0);
            var size = column.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return column.ReadByte() < 0 ? size : throw new InvalidDataException($"Blob chunk {index} is larger than the blob's chunk size.");
        }

        public void Dispose() => command.Dispose();
    }
}
