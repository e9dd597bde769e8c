using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Data;

namespace SecondBrain.Core.Sync;

/// <summary>Uploads in Postgres. Reads go through the tenant filter, so a run can only open its own tenant's file.</summary>
public sealed class UploadStore(SecondBrainDbContext db) : IUploadStore
{
    public async Task<Guid> SaveAsync(Guid tenantId, string fileName, string contentType, Stream content, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        var upload = new Upload
        {
            TenantId = tenantId,
            FileName = Path.GetFileName(fileName),
            ContentType = contentType,
            Size = buffer.Length,
            Content = buffer.ToArray()
        };
        db.Uploads.Add(upload);
        await db.SaveChangesAsync(cancellationToken);
        return upload.Id;
    }

    public async Task<StoredUpload?> OpenAsync(Guid uploadId, CancellationToken cancellationToken) =>
        await db.Uploads.AsNoTracking()
            .Where(u => u.Id == uploadId)
            .Select(u => new StoredUpload(u.Id, u.TenantId, u.FileName, u.ContentType, u.Content))
            .SingleOrDefaultAsync(cancellationToken);
}
