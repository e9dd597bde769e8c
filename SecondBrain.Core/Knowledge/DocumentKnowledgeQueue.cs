using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Data;
using SecondBrain.Core.Documents;

namespace SecondBrain.Core.Knowledge;

/// <summary>
/// Ingestion's side of knowledge extraction: a document version that got indexed is queued for extraction (its
/// parsed text travels with the queue row, saved with the chunks), and a removed document takes its knowledge along.
/// </summary>
public static partial class DocumentKnowledgeQueue
{
    /// <summary>Queues extraction of this version of the document, replacing whatever state an older one left.</summary>
    public static async Task EnqueueAsync(SecondBrainDbContext db, Document document, string text, CancellationToken ct)
    {
        var row = await db.DocumentKnowledge.FirstOrDefaultAsync(k => k.DocumentId == document.Id, ct);
        if (row is null)
        {
            row = new DocumentKnowledge { DocumentId = document.Id, TenantId = document.TenantId, Status = DocumentKnowledgeStatuses.Queued };
            db.DocumentKnowledge.Add(row);
        }

        row.DocumentVersion = document.Version;
        row.Status = DocumentKnowledgeStatuses.Queued;
        row.PendingText = text;
        row.ThreadKey = ThreadKey(document);
        row.QueuedAt = DateTimeOffset.UtcNow;
        row.LeaseOwner = null;
        row.LeaseExpiresAt = null;
        row.Attempts = 0;
        row.Error = null;
    }

    /// <summary>
    /// Deletes everything extracted from the document. The state row goes first: it waits for an extraction holding
    /// it to commit, so the rows that extraction wrote are visible to (and removed by) the deletes after it.
    /// </summary>
    public static async Task RemoveAsync(SecondBrainDbContext db, Guid documentId, CancellationToken ct)
    {
        await db.DocumentKnowledge.Where(k => k.DocumentId == documentId).ExecuteDeleteAsync(ct);
        await RemoveExtractedAsync(db, documentId, ct);
    }

    /// <summary>The extracted rows of a document (not its state row): before re-extraction and on removal.</summary>
    public static async Task RemoveExtractedAsync(SecondBrainDbContext db, Guid documentId, CancellationToken ct)
    {
        await db.KnowledgeMentions.Where(m => m.DocumentId == documentId).ExecuteDeleteAsync(ct);
        await db.EntityRelations.Where(r => r.DocumentId == documentId).ExecuteDeleteAsync(ct);
        await db.KnowledgeFrames.Where(f => f.DocumentId == documentId).ExecuteDeleteAsync(ct);
        await db.KnowledgeClaims.Where(c => c.DocumentId == documentId).ExecuteDeleteAsync(ct);
    }

    /// <summary>What a reply shares with the message it answers: the mail subject without reply prefixes, or the Slack thread.</summary>
    public static string? ThreadKey(Document document)
    {
        var metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(document.Metadata) ?? [];
        if (metadata.TryGetValue("threadTs", out var threadTs))
        {
            return $"slack:{metadata.GetValueOrDefault("channelId") ?? metadata.GetValueOrDefault("channel")}:{threadTs}";
        }

        if (metadata.ContainsKey("messageId") || document.ContentType.Contains("rfc822", StringComparison.OrdinalIgnoreCase))
        {
            var subject = ReplyPrefix().Replace(document.Title, "").Trim().ToLowerInvariant();
            return subject.Length == 0 ? null : "mail:" + (subject.Length > 400 ? subject[..400] : subject);
        }

        return null;
    }

    [GeneratedRegex(@"^(\s*(re|fw|fwd|aw|sv|wg)\s*(\[\d+\])?\s*:\s*)+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex ReplyPrefix();
}
