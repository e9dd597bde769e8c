namespace SecondBrain.Core.Sync;

/// <summary>An uploaded archive (e-mail archive, Slack export) waiting to be imported by a sync run: its metadata; the bytes stream from storage.</summary>
public sealed record StoredUpload(Guid Id, Guid TenantId, string FileName, string ContentType, long Size);

/// <summary>
/// Durable storage for uploads, so whichever worker claims the import run can read the file (and a resumed run
/// reads it again). The bytes stream in and out of blob storage; neither side holds the file whole.
/// </summary>
public interface IUploadStore
{
    /// <summary>Streams <paramref name="content"/> into storage (at most <c>Sync:MaxUploadBytes</c>) and records the upload.</summary>
    Task<Guid> SaveAsync(Guid tenantId, string fileName, string contentType, Stream content, CancellationToken cancellationToken);

    Task<StoredUpload?> FindAsync(Guid uploadId, CancellationToken cancellationToken);

    /// <summary>A seekable stream over the upload's bytes (one storage chunk in memory at a time), or null when it is gone.</summary>
    Task<Stream?> OpenReadAsync(Guid uploadId, CancellationToken cancellationToken);
}
