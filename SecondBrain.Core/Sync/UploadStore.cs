using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Data;
using SecondBrain.Core.Storage;

namespace SecondBrain.Core.Sync;

/// <summary>
/// Uploads as an <c>uploads</c> row (name, type, size) with their bytes in blob storage under
/// <see cref="KeyOf"/>, written in one transaction as the request body streams in. Reads go through the tenant
/// filter (and the tenant-bound blob store), so a run can only open its own tenant's file.
/// </summary>
public sealed class UploadStore(SecondBrainDbContext db, IBlobStore blobs, IOptions<SyncOptions> options) : IUploadStore
{
    public static string KeyOf(Guid uploadId) => $"uploads/{uploadId:N}";

    public async Task<Guid> SaveAsync(Guid tenantId, string fileName, string contentType, Stream content, CancellationToken cancellationToken) =>
        await SingleAttempt.InTransactionAsync(db, async ct =>
        {
            var upload = new Upload { TenantId = tenantId, FileName = Path.GetFileName(fileName), ContentType = contentType };
            var stored = await blobs.PutAsync(KeyOf(upload.Id), content, options.Value.MaxUploadBytes, ct);
            upload.Size = stored.Length;
            db.Uploads.Add(upload);
            await db.SaveChangesAsync(ct);
            return upload.Id;
        }, cancellationToken);

    public async Task<StoredUpload?> FindAsync(Guid uploadId, CancellationToken cancellationToken) =>
        await db.Uploads.AsNoTracking()
            .Where(u => u.Id == uploadId)
            .Select(u => new StoredUpload(u.Id, u.TenantId, u.FileName, u.ContentType, u.Size))
            .SingleOrDefaultAsync(cancellationToken);

    public async Task<Stream?> OpenReadAsync(Guid uploadId, CancellationToken cancellationToken) =>
        await FindAsync(uploadId, cancellationToken) is null ? null : await blobs.OpenReadAsync(KeyOf(uploadId), cancellationToken);
}
