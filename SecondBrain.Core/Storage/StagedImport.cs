using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Storage;

/// <summary>Reads an archive's entries in a deterministic order, streaming: one entry in memory at a time.</summary>
public delegate IEnumerable<ArchiveRecord> ArchiveParser(string fileName, Stream archive, CancellationToken cancellationToken);

/// <summary>
/// Imports an uploaded archive by reading it once per run: the first page streams the archive through its parser
/// and stages every record in a blob of the run (<see cref="StagedItems"/>); every page, on any worker, then reads
/// its records from a byte offset in that blob. So a zip is inflated once, not once per page, and a Slack export's
/// threads are folded once. The cursor is (offset, index, total); the staged content depends only on the archive,
/// so a run resumed elsewhere, or one whose staged blob has to be rebuilt, continues at the same offset. Staged
/// blobs of runs that have ended are removed when the tenant's next import stages.
/// </summary>
public sealed class StagedImport(
    IUploadStore uploads,
    IBlobStore blobs,
    IImportRuns runs,
    IOptions<ArchiveImportOptions> options,
    ILogger<StagedImport> logger)
{
    public const string KeyPrefix = "imports/";

    private static readonly JsonSerializerOptions CursorJson = new(JsonSerializerDefaults.Web);

    public static string KeyOf(Guid runId) => $"{KeyPrefix}{runId:N}";

    /// <summary>
    /// One page of the run's archive. <paramref name="failuresFillPages"/>: whether failures count towards the page
    /// size (an e-mail archive's failures are its entries) or ride along with the items (a Slack export's failures
    /// are about files). <paramref name="stage"/> names what the page is reading, for progress.
    /// </summary>
    public async Task<SourcePage> ReadPageAsync(
        SourceReadContext context, string? cursor, ArchiveParser parse, bool failuresFillPages,
        Func<IReadOnlyList<SourceItem>, string> stage, CancellationToken cancellationToken)
    {
        var uploadId = context.UploadId ?? throw new InvalidSourceException("The import run names no uploaded archive.");
        var position = ParseCursor(cursor);
        var key = KeyOf(context.RunId);
        var staged = await blobs.OpenReadAsync(key, cancellationToken);
        if (staged is null)
        {
            await StageAsync(uploadId, context.RunId, key, parse, cancellationToken);
            staged = await blobs.OpenReadAsync(key, cancellationToken) ?? throw new InvalidOperationException("The staged import vanished as it was written.");
        }

        await using (staged)
        {
            var total = position?.Total;
            if (total is null)
            {
                var (itemCount, failureCount) = StagedItems.ReadTrailer(staged);
                total = failuresFillPages ? itemCount + failureCount : itemCount;
            }

            var offset = position?.Offset ?? 0;
            if (offset > staged.Length)
            {
                throw new InvalidSourceException($"The import cursor does not fit this run's archive: {cursor}");
            }

            staged.Position = offset;
            return ReadPage(staged, position?.Index ?? 0, total.Value, failuresFillPages, stage);
        }
    }

    private SourcePage ReadPage(Stream staged, long index, long total, bool failuresFillPages, Func<IReadOnlyList<SourceItem>, string> stage)
    {
        var limits = options.Value;
        var items = new List<SourceItem>();
        var failures = new List<SourceItemFailure>();
        long bytes = 0;
        var done = false;
        while (!done)
        {
            var count = failuresFillPages ? items.Count + failures.Count : items.Count;
            if (count >= limits.PageSize || (bytes >= limits.MaxPageBytes && count > 0))
            {
                done = AtTrailer(staged);
                break;
            }

            switch (StagedItems.Read(staged))
            {
                case null:
                    done = true;
                    break;
                case { Item: { } item }:
                    items.Add(item);
                    bytes += (item.Content?.Length ?? 0) + (item.Text?.Length ?? 0);
                    index++;
                    break;
                case { Failure: { } failure }:
                    failures.Add(failure);
                    index++;
                    break;
            }
        }

        var next = done ? null : JsonSerializer.Serialize(new Cursor(staged.Position, index, total), CursorJson);
        return new SourcePage(items, failures, next, total, Stage: stage(items));
    }

    /// <summary>Whether the next frame is the trailer, so a full last page ends the run instead of leaving an empty one.</summary>
    private static bool AtTrailer(Stream staged)
    {
        var at = staged.Position;
        Span<byte> length = stackalloc byte[4];
        staged.ReadExactly(length);
        staged.Position = at;
        return BinaryPrimitives.ReadInt32LittleEndian(length) == 0;
    }

    private async Task StageAsync(Guid uploadId, Guid runId, string key, ArchiveParser parse, CancellationToken ct)
    {
        var upload = await uploads.FindAsync(uploadId, ct)
            ?? throw new InvalidSourceException("The uploaded archive is no longer stored; upload it again.");
        await RemoveEndedStagingAsync(runId, ct);
        await using var archive = await uploads.OpenReadAsync(uploadId, ct)
            ?? throw new InvalidSourceException("The uploaded archive is no longer stored; upload it again.");
        try
        {
            var stored = await blobs.WriteAsync(key, async (output, token) =>
            {
                long items = 0, failures = 0;
                foreach (var record in parse(upload.FileName, archive, token))
                {
                    await StagedItems.WriteAsync(output, record, token);
                    if (record.Item is not null)
                    {
                        items++;
                    }
                    else
                    {
                        failures++;
                    }
                }

                await StagedItems.WriteTrailerAsync(output, items, failures, token);
            }, long.MaxValue, ct);
            logger.LogInformation("Staged the import of {FileName} ({Size} bytes) for run {RunId}: {Staged} bytes", upload.FileName, upload.Size, runId, stored.Length);
        }
        catch (ArchiveLimitException ex)
        {
            // The archive as a whole is over a limit (a zip bomb, too many entries): the run fails with the reason.
            throw new InvalidSourceException(ex.Message, ex);
        }
    }

    /// <summary>Staged blobs of the tenant's runs that are no longer queued or running: nothing will read them again.</summary>
    private async Task RemoveEndedStagingAsync(Guid currentRunId, CancellationToken ct)
    {
        var staged = new Dictionary<Guid, string>();
        foreach (var key in await blobs.ListKeysAsync(KeyPrefix, 500, ct))
        {
            if (Guid.TryParseExact(key[KeyPrefix.Length..], "N", out var runId) && runId != currentRunId)
            {
                staged[runId] = key;
            }
        }

        if (staged.Count == 0)
        {
            return;
        }

        var active = await runs.ActiveAsync(staged.Keys, ct);
        foreach (var (runId, key) in staged)
        {
            if (!active.Contains(runId))
            {
                await blobs.DeleteAsync(key, ct);
            }
        }
    }

    private sealed record Cursor(long Offset, long Index, long Total);

    private static Cursor? ParseCursor(string? cursor)
    {
        if (cursor is null)
        {
            return null;
        }

        try
        {
            if (JsonSerializer.Deserialize<Cursor>(cursor, CursorJson) is { Offset: >= 0, Index: >= 0, Total: >= 0 } position)
            {
                return position;
            }
        }
        catch (JsonException)
        {
        }

        throw new InvalidSourceException($"The import cursor is not one this importer wrote: {cursor}");
    }
}
