namespace SecondBrain.Core.Sync;

/// <summary>An uploaded archive (e-mail archive, Slack export) waiting to be imported by a sync run.</summary>
public sealed record StoredUpload(Guid Id, Guid TenantId, string FileName, string ContentType, byte[] Content);

/// <summary>
/// Durable storage for uploads, so whichever worker claims the import run can read the file (and a resumed run
/// reads it again). Stored in Postgres.
/// </summary>
public interface IUploadStore
{
    Task<Guid> SaveAsync(Guid tenantId, string fileName, string contentType, Stream content, CancellationToken cancellationToken);

    Task<StoredUpload?> OpenAsync(Guid uploadId, CancellationToken cancellationToken);
}
