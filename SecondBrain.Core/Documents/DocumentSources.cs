using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Data;

namespace SecondBrain.Core.Documents;

/// <summary>Where a chunk sits in the document's parsed text: what a client highlights when a citation is opened.</summary>
public sealed record ChunkSpan(Guid ChunkId, int Position, int? Start, int? End, string? Section, int? Page);

public sealed record DocumentContent(Guid DocumentId, string Title, string Source, string ContentType, string? Author, DateTimeOffset? Date, string Text, IReadOnlyList<ChunkSpan> Chunks);

public sealed record DocumentOriginal(string FileName, string ContentType, byte[] Bytes);

/// <summary>
/// Opening a cited source: the parsed text (as indexed) with each chunk's offsets in it, and the stored original
/// file. Only a live document of the caller's tenant is served.
/// </summary>
public sealed class DocumentSources(SecondBrainDbContext db)
{
    public async Task<DocumentContent?> ContentAsync(Guid id, CancellationToken ct)
    {
        var document = await db.Documents.AsNoTracking().Where(d => d.Id == id && d.DeletedAt == null)
            .Select(d => new { d.Id, d.Title, d.Source, d.ContentType, d.Author, d.SourceCreatedAt, d.ParsedText, d.Version })
            .SingleOrDefaultAsync(ct);
        if (document is null)
        {
            return null;
        }

        var chunks = await db.Chunks.AsNoTracking().Where(c => c.DocumentId == id && c.DocumentVersion == document.Version)
            .OrderBy(c => c.Position)
            .Select(c => new { c.Id, c.Position, c.Text, c.Section, c.Page })
            .ToListAsync(ct);

        // Documents indexed before the parsed text was kept: their chunks, one after another, are the text.
        var text = document.ParsedText ?? string.Join("\n\n", chunks.Select(c => c.Text));
        var spans = new List<ChunkSpan>(chunks.Count);
        var from = 0;
        foreach (var chunk in chunks)
        {
            var (start, end) = Locate(text, chunk.Text, from);
            if (start is { } found)
            {
                from = found + 1; // chunks overlap a little: the next one starts after this one's start
            }

            spans.Add(new ChunkSpan(chunk.Id, chunk.Position, start, end, chunk.Section, chunk.Page));
        }

        return new DocumentContent(document.Id, document.Title, document.Source, document.ContentType, document.Author, document.SourceCreatedAt, text, spans);
    }

    public async Task<DocumentOriginal?> OriginalAsync(Guid id, CancellationToken ct)
    {
        var document = await db.Documents.AsNoTracking().Where(d => d.Id == id && d.DeletedAt == null)
            .Select(d => new { d.Title, d.ContentType, d.Content, d.Text, d.Metadata })
            .SingleOrDefaultAsync(ct);
        if (document is null || (document.Content is null && document.Text is null))
        {
            return null;
        }

        var metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(document.Metadata) ?? [];
        var name = metadata.GetValueOrDefault("fileName") is { Length: > 0 } fileName ? Path.GetFileName(fileName) : SafeName(document.Title) + Extension(document.ContentType);
        return document.Content is { } bytes
            ? new DocumentOriginal(name, document.ContentType, bytes)
            : new DocumentOriginal(name, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(document.Text!));
    }

    /// <summary>The chunk's place in the text: found by its opening words (whitespace may differ after cleaning).</summary>
    private static (int? Start, int? End) Locate(string text, string chunk, int from)
    {
        var probe = chunk.Length > 60 ? chunk[..60] : chunk;
        var start = text.IndexOf(probe, Math.Min(from, text.Length), StringComparison.Ordinal);
        if (start < 0)
        {
            start = text.IndexOf(probe, StringComparison.Ordinal);
        }

        if (start < 0)
        {
            return (null, null);
        }

        var tail = chunk.Length > 60 ? chunk[^60..] : chunk;
        var tailAt = text.IndexOf(tail, start, StringComparison.Ordinal);
        return (start, tailAt >= 0 ? tailAt + tail.Length : Math.Min(text.Length, start + chunk.Length));
    }

    private static string SafeName(string title)
    {
        var invalid = Path.GetInvalidFileNameChars();
        var clean = new string(title.Select(c => invalid.Contains(c) || char.IsControl(c) ? '_' : c).ToArray()).Trim();
        return clean.Length == 0 ? "document" : clean.Length > 100 ? clean[..100] : clean;
    }

    private static string Extension(string contentType) =>
        contentType.Contains("html", StringComparison.OrdinalIgnoreCase) ? ".html"
        : contentType.Contains("rfc822", StringComparison.OrdinalIgnoreCase) ? ".eml"
        : ".txt";
}
