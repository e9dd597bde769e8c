using SecondBrain.Core.Data;

namespace SecondBrain.Core.Documents;

/// <summary>
/// TRANSITIONAL. Ingestion (DocumentIndexer.PrepareAsync) still reads a document's bytes from
/// <c>documents.content</c>; uploads now stream into blob storage. Until ingestion reads
/// <see cref="Document.ContentBlobKey"/> through <see cref="Storage.IBlobStore.ReadAllBytesAsync"/>, this copies the
/// stored chunks into the row inside Postgres, in the upload's transaction, so no service ever holds the file to do
/// it. Remove it (and its one call in <see cref="DocumentService"/>) when ingestion reads the blob.
/// </summary>
internal static class DocumentContentBridge
{
    public static async Task CopyFromBlobsAsync(SecondBrainDbContext db, IReadOnlyList<Guid> documentIds, CancellationToken ct)
    {
        if (documentIds.Count == 0)
        {
            return;
        }

        await using var command = await db.TenantCommandAsync("""
            UPDATE documents d
               SET content = (SELECT string_agg(c.data, ''::bytea ORDER BY c.seq)
                                FROM blobs b JOIN blob_chunks c ON c.blob_id = b.id
                               WHERE b.tenant_id = @tenant AND b.key = d.content_blob_key)
             WHERE d.tenant_id = @tenant AND d.id = ANY(@ids) AND d.content_blob_key IS NOT NULL
            """, ct);
        command.With("ids", documentIds.ToArray());
        await command.ExecuteNonQueryAsync(ct);
    }
}
