using System.Globalization;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Slack;

/// <summary>
/// Imports an uploaded Slack workspace export. The cursor is the index of the next item in the parser's
/// deterministic order, so a worker resuming the run re-reads the upload and continues exactly there.
/// </summary>
public sealed class SlackExportReader(IUploadStore uploads) : ISourceReader
{
    public const int PageSize = 100;

    public string Source => Sources.SlackExport;

    public async Task<SourcePage> ReadPageAsync(SourceReadContext context, string? cursor, CancellationToken cancellationToken)
    {
        var uploadId = context.UploadId ?? throw new InvalidOperationException("A Slack export import needs an upload.");
        var upload = await uploads.OpenAsync(uploadId, cancellationToken)
            ?? throw new InvalidSourceException("The uploaded Slack export is no longer stored.");

        // Parsed again for every page: readers keep nothing between pages, and parsing is cheap next to ingestion.
        var export = SlackExportParser.Parse(upload.Content);

        var start = 0;
        if (cursor is not null && (!int.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out start) || start > export.Items.Count))
        {
            throw new InvalidOperationException($"The Slack export cursor '{cursor}' does not fit this export.");
        }

        var end = Math.Min(start + PageSize, export.Items.Count);
        var items = export.Items.Skip(start).Take(end - start).ToList();
        // Failures are about files, not items: report them once, with the first page.
        var failures = start == 0 ? export.Failures : [];
        var next = end < export.Items.Count ? end.ToString(CultureInfo.InvariantCulture) : null;
        var stage = items.Count > 0 && items[0].Metadata.TryGetValue("channel", out var channel)
            ? $"importing #{channel}"
            : "importing Slack export";

        return new SourcePage(items, failures, next, export.Items.Count, Stage: stage);
    }
}
