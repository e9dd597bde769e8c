using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Email;

/// <summary>
/// Imports an uploaded e-mail archive (.eml, mbox, or a zip of .eml files, maildirs and mbox files). The upload is
/// re-read from the store on every page, so the reader holds nothing between pages and any worker can resume.
/// </summary>
public sealed class EmailArchiveReader(IUploadStore uploads) : ISourceReader
{
    public string Source => Sources.EmailArchive;

    public async Task<SourcePage> ReadPageAsync(SourceReadContext context, string? cursor, CancellationToken cancellationToken)
    {
        var uploadId = context.UploadId ?? throw new InvalidSourceException("The import run names no uploaded archive.");
        var upload = await uploads.OpenAsync(uploadId, cancellationToken)
            ?? throw new InvalidSourceException("The uploaded archive is no longer stored; upload it again.");
        return EmailArchiveParser.ReadPage(upload.FileName, upload.Content, cursor, EmailArchiveParser.DefaultPageSize, cancellationToken);
    }
}
