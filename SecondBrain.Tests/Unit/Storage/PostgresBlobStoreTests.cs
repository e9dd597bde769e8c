using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.Data;
using SecondBrain.Core.Integrations.Email;
using SecondBrain.Core.Storage;
using SecondBrain.Core.Sync;
using SecondBrain.Tests.Unit.VectorIndex;

namespace SecondBrain.Tests.Unit.Storage;

/// <summary>The Postgres blob store on a real server with the real migrations: streaming in chunks, seeking, limits, atomic replacement, tenants.</summary>
public sealed class PostgresBlobStoreTests(PostgresServerFixture server) : IClassFixture<PostgresServerFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [PostgresFact]
    public async Task A_blob_streams_in_as_fixed_chunks_and_reads_back_whole_or_from_any_offset()
    {
        var tenant = Guid.NewGuid();
        var content = RandomBytes(3 * PostgresBlobStore.ChunkBytes + PostgresBlobStore.ChunkBytes / 2, 1);
        await using var db = server.CreateContext(tenant);
        var store = new PostgresBlobStore(db);

        var info = await store.PutAsync("files/a", new MemoryStream(content), long.MaxValue, Ct);

        Assert.Equal(content.Length, info.Length);
        Assert.Equal(4, await CountAsync("SELECT count(*) FROM blob_chunks c JOIN blobs b ON b.id = c.blob_id WHERE b.tenant_id = @t AND b.key = 'files/a'", tenant));
        Assert.Equal(content, await store.ReadAllBytesAsync("files/a", long.MaxValue, Ct));
        await using (var stream = (await store.OpenReadAsync("files/a", Ct))!)
        {
            Assert.True(stream.CanSeek);
            Assert.Equal(content.Length, stream.Length);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(content, copy.ToArray());

            // Across a chunk boundary, after a seek backwards.
            stream.Position = PostgresBlobStore.ChunkBytes * 2 - 10;
            var window = new byte[20];
            stream.ReadExactly(window);
            Assert.Equal(content.AsSpan(PostgresBlobStore.ChunkBytes * 2 - 10, 20).ToArray(), window);
        }

        await Assert.ThrowsAsync<BlobTooLargeException>(() => store.ReadAllBytesAsync("files/a", 1024, Ct));
        Assert.Null(await store.OpenReadAsync("files/missing", Ct));
    }

    [PostgresFact]
    public async Task Over_the_limit_nothing_is_stored_and_the_previous_blob_of_the_key_stays()
    {
        var tenant = Guid.NewGuid();
        await using var db = server.CreateContext(tenant);
        var store = new PostgresBlobStore(db);
        await store.PutAsync("k", new MemoryStream("old"u8.ToArray()), long.MaxValue, Ct);

        var error = await Assert.ThrowsAsync<BlobTooLargeException>(() =>
            store.PutAsync("k", new MemoryStream(RandomBytes(2 * PostgresBlobStore.ChunkBytes + 5, 2)), PostgresBlobStore.ChunkBytes, Ct));

        Assert.Equal(PostgresBlobStore.ChunkBytes, error.Limit);
        Assert.Equal("old"u8.ToArray(), await store.ReadAllBytesAsync("k", long.MaxValue, Ct));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM blob_chunks WHERE tenant_id = @t", tenant));
    }

    [PostgresFact]
    public async Task A_write_replaces_the_blob_of_its_key_and_joins_the_callers_transaction()
    {
        var tenant = Guid.NewGuid();
        await using var db = server.CreateContext(tenant);
        var store = new PostgresBlobStore(db);
        await store.PutAsync("k", new MemoryStream(RandomBytes(PostgresBlobStore.ChunkBytes + 1, 3)), long.MaxValue, Ct);
        await store.PutAsync("k", new MemoryStream("new"u8.ToArray()), long.MaxValue, Ct);
        Assert.Equal("new"u8.ToArray(), await store.ReadAllBytesAsync("k", long.MaxValue, Ct));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM blob_chunks WHERE tenant_id = @t", tenant));

        // In the caller's transaction, rolled back: as if never written.
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            await store.PutAsync("rolled-back", new MemoryStream("x"u8.ToArray()), long.MaxValue, Ct);
            Assert.NotNull(await store.GetInfoAsync("rolled-back", Ct));
            await transaction.RollbackAsync();
        }

        Assert.Null(await store.GetInfoAsync("rolled-back", Ct));
    }

    [PostgresFact]
    public async Task A_tenant_sees_only_its_own_blobs()
    {
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        await using (var db = server.CreateContext(a))
        {
            var store = new PostgresBlobStore(db);
            await store.PutAsync("uploads/1", new MemoryStream("a1"u8.ToArray()), long.MaxValue, Ct);
            await store.PutAsync("uploads/2", new MemoryStream("a2"u8.ToArray()), long.MaxValue, Ct);
            await store.PutAsync("other/3", new MemoryStream("a3"u8.ToArray()), long.MaxValue, Ct);
            Assert.Equal(["uploads/1", "uploads/2"], await store.ListKeysAsync("uploads/", 10, Ct));
        }

        await using (var db = server.CreateContext(b))
        {
            var store = new PostgresBlobStore(db);
            Assert.Null(await store.OpenReadAsync("uploads/1", Ct));
            Assert.Empty(await store.ListKeysAsync("uploads/", 10, Ct));
            Assert.False(await store.DeleteAsync("uploads/1", Ct));
        }

        await using (var db = server.CreateContext(a))
        {
            Assert.Equal("a1"u8.ToArray(), await new PostgresBlobStore(db).ReadAllBytesAsync("uploads/1", 10, Ct));
        }
    }

    [PostgresFact]
    public async Task An_mbox_upload_imports_through_the_real_stores_in_pages()
    {
        var tenant = Guid.NewGuid();
        var mbox = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 1000).Select(i =>
            $"From a@b.c Mon Jan  1 00:00:00 2024\nFrom: A <a@b.c>\nSubject: note {i}\n\n{new string('z', 2000)}\n")));
        await using var db = server.CreateContext(tenant);
        var blobs = new PostgresBlobStore(db);
        var uploads = new UploadStore(db, blobs, Options.Create(new SyncOptions()));
        var id = await uploads.SaveAsync(tenant, "team.mbox", "application/mbox", new MemoryStream(mbox), Ct);
        Assert.Equal(mbox.Length, (await uploads.FindAsync(id, Ct))!.Size);

        var options = Options.Create(new ArchiveImportOptions());
        var reader = new EmailArchiveReader(new StagedImport(uploads, blobs, new SyncImportRuns(db), options, NullLogger<StagedImport>.Instance), options);
        var (items, failures, pages) = await ImportHarness.ReadAllAsync(reader, new SourceReadContext(tenant, Guid.NewGuid(), null, id, null));

        Assert.Empty(failures);
        Assert.Equal(10, pages.Count);
        Assert.All(pages, p => Assert.Equal(1000, p.EstimatedTotal));
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"note {i}"), items.Select(i => i.Title));
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"mbox:{i}"), items.Select(i => i.ExternalId));
    }

    private async Task<long> CountAsync(string sql, Guid tenant)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("t", tenant);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
