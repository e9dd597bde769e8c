using Microsoft.Extensions.Options;
using SecondBrain.Core.Storage;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Email;

/// <summary>
/// Imports an uploaded e-mail archive (.eml, mbox, or a zip of .eml files, maildirs and mbox files). The archive is
/// read once per run, into the run's staged records (<see cref="StagedImport"/>); pages are read from there, so the
/// reader holds nothing between pages and any worker can resume.
/// </summary>
public sealed class EmailArchiveReader(StagedImport staged, IOptions<ArchiveImportOptions> options) : ISourceReader
{
    public string Source => Sources.EmailArchive;

    public Task<SourcePage> ReadPageAsync(SourceReadContext context, string? cursor, CancellationToken cancellationToken) =>
        staged.ReadPageAsync(context, cursor,
            (fileName, archive, ct) => EmailArchiveParser.Read(fileName, archive, options.Value, ct),
            failuresFillPages: true,
            items => items.Count > 0 && items[0].Metadata.TryGetValue("folder", out var folder) && folder.Length > 0
                ? $"reading {folder}"
                : items.Count > 0 && items[0].Metadata.TryGetValue("path", out var path) ? $"reading {path}" : "reading archive",
            cancellationToken);
}
