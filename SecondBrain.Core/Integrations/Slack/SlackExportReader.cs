using Microsoft.Extensions.Options;
using SecondBrain.Core.Storage;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Slack;

/// <summary>
/// Imports an uploaded Slack workspace export. The export is parsed once per run, into the run's staged records
/// (<see cref="StagedImport"/>), in the parser's deterministic order; pages are read from there, so a worker
/// resuming the run continues exactly at its checkpoint without parsing the export again.
/// </summary>
public sealed class SlackExportReader(StagedImport staged, IOptions<ArchiveImportOptions> options) : ISourceReader
{
    public string Source => Sources.SlackExport;

    public Task<SourcePage> ReadPageAsync(SourceReadContext context, string? cursor, CancellationToken cancellationToken) =>
        // Failures are about files, not items: they ride along with the items rather than take their room on a page.
        staged.ReadPageAsync(context, cursor,
            (_, archive, ct) => SlackExportParser.Read(archive, options.Value, ct),
            failuresFillPages: false,
            items => items.Count > 0 && items[0].Metadata.TryGetValue("channel", out var channel)
                ? $"importing #{channel}"
                : "importing Slack export",
            cancellationToken);
}
