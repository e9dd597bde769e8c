using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Data;
using SecondBrain.Core.Documents;

namespace SecondBrain.Core.Sync;

/// <summary>
/// Stores one page and checkpoints the run in a single transaction (one SaveChanges): documents upserted by
/// (tenant, source, external id) with a content hash, tombstones respected, ingestion jobs queued, failed items
/// recorded, cursor and counts advanced. Either all of it is stored or none, so a resumed run never duplicates.
/// </summary>
public sealed class SyncPageWriter(SecondBrainDbContext db, TimeProvider time)
{
    public sealed record PageResult(int Inserted, int Updated, int Unchanged, int Deleted, int SkippedTombstones);

    public async Task<PageResult> CommitAsync(SyncRun run, SourcePage page, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var items = page.Items.GroupBy(i => i.ExternalId, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        var ids = items.Select(i => i.ExternalId).ToList();
        var existing = ids.Count == 0
            ? new Dictionary<string, Document>()
            : await db.Documents.Where(d => d.Source == run.Source && ids.Contains(d.ExternalId)).ToDictionaryAsync(d => d.ExternalId, StringComparer.Ordinal, ct);

        int inserted = 0, updated = 0, unchanged = 0, deleted = 0, tombstoned = 0;
        foreach (var item in items)
        {
            existing.TryGetValue(item.ExternalId, out var document);
            if (item.Deleted)
            {
                if (document is { DeletedAt: null })
                {
                    document.DeletedAt = now;
                    document.DeletedBy = "source";
                    document.Status = DocumentStatuses.Deleted;
                    document.Version++;
                    document.UpdatedAt = now;
                    document.LastSyncRunId = run.Id;
                    Enqueue(document, "delete");
                    deleted++;
                }
                else
                {
                    unchanged++;
                }

                continue;
            }

            var hash = Hash(item);
            if (document is null)
            {
                document = new Document
                {
                    TenantId = run.TenantId,
                    Source = run.Source,
                    ExternalId = item.ExternalId,
                    Title = Truncate(Clean(item.Title), 1000),
                    ContentType = item.ContentType,
                    ContentHash = hash,
                    Status = DocumentStatuses.Pending
                };
                Apply(document, item, run, now);
                db.Documents.Add(document);
                Enqueue(document, "upsert");
                inserted++;
            }
            else if (document.DeletedBy == "user")
            {
                // The user deleted it: a re-sync must never bring it back.
                tombstoned++;
            }
            else if (document.ContentHash == hash && document.DeletedAt is null)
            {
                unchanged++;
            }
            else
            {
                document.ContentHash = hash;
                document.DeletedAt = null;
                document.DeletedBy = null;
                document.Status = DocumentStatuses.Pending;
                document.Version++;
                Apply(document, item, run, now);
                Enqueue(document, "upsert");
                updated++;
            }
        }

        foreach (var failure in page.Failures)
        {
            db.SyncFailedItems.Add(new SyncFailedItem
            {
                TenantId = run.TenantId,
                RunId = run.Id,
                ExternalId = Truncate(Clean(failure.ExternalId), 500),
                Reason = Truncate(Clean(failure.Reason), 2000),
                At = now
            });
        }

        run.Cursor = page.NextCursor;
        run.PagesCommitted++;
        run.Found += page.Items.Count + page.Failures.Count;
        run.Processed += page.Items.Count;
        run.Failed += page.Failures.Count;
        run.EstimatedTotal = page.EstimatedTotal ?? run.EstimatedTotal;
        run.Stage = page.Stage ?? run.Stage;
        run.NextSyncState = page.SyncState ?? run.NextSyncState;
        run.UpdatedAt = now;

        await db.SaveChangesAsync(ct);
        return new PageResult(inserted, updated, unchanged, deleted, tombstoned);
    }

    private void Enqueue(Document document, string kind) =>
        db.IngestionJobs.Add(new IngestionJob { TenantId = document.TenantId, DocumentId = document.Id, DocumentVersion = document.Version, Kind = kind });

    private static void Apply(Document document, SourceItem item, SyncRun run, DateTimeOffset now)
    {
        document.Title = Truncate(Clean(item.Title), 1000);
        document.Author = item.Author is null ? null : Truncate(Clean(item.Author), 500);
        document.SourceCreatedAt = item.CreatedAt?.ToUniversalTime();
        document.ContentType = Clean(item.ContentType);
        document.Text = item.Text is null ? null : Clean(item.Text);
        document.Content = item.Content;
        document.Metadata = JsonSerializer.Serialize(item.Metadata.ToDictionary(m => Clean(m.Key), m => Clean(m.Value)));
        document.LastSyncRunId = run.Id;
        document.UpdatedAt = now;
        document.FailureReason = null;
    }

    internal static string Hash(SourceItem item)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(item.Title));
        sha.AppendData([0]);
        sha.AppendData(Encoding.UTF8.GetBytes(item.Text ?? ""));
        sha.AppendData([0]);
        sha.AppendData(item.Content ?? []);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];

    // Postgres text and jsonb cannot hold NUL characters, which broken mail headers do contain.
    private static string Clean(string value) => value.Contains('\0', StringComparison.Ordinal) ? value.Replace("\0", "", StringComparison.Ordinal) : value;
}
