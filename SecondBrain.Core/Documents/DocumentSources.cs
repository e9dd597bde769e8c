using SecondBrain.Core.Storage;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Data;

namespace SecondBrain.Core.Documents;

/// <summary>Where a chunk sits in the document's parsed text: what a client highlights when a citation is opened.</summary>
public sealed record ChunkSpan(Guid ChunkId, int Position, int? Start, int? End, string? Section, int? Page);

public sealed record DocumentContent(Guid DocumentId, string Title, string Source, string ContentType, string? Author, DateTimeOffset? Date, string Text, IReadOnlyList<ChunkSpan> Chunks);

/// <param name="Content">The file as a stream (an upload is read from blob storage a chunk at a time, never held whole).</param>
public sealed record DocumentOriginal(string FileName, string ContentType, Stream Content);

/// <summary>
/// Opening a cited source: the parsed text (as indexed) with each chunk's offsets in it, and the stored original
/// file. Only a live document of the caller's tenant is served.
/// </summary>
public sealed class DocumentSources(SecondBrainDbContext db, IBlobStore blobs)
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
        var normalized = new NormalizedText(text);
        var from = 0;
        foreach (var chunk in chunks)
        {
            var (start, end) = Locate(normalized, chunk.Text, from);
            if (start is { } found)
            {
                from = normalized.FromOriginal(found) + 1; // chunks overlap a little: the next one starts after this one's start
            }

            spans.Add(new ChunkSpan(chunk.Id, chunk.Position, start, end, chunk.Section, chunk.Page));
        }

        return new DocumentContent(document.Id, document.Title, document.Source, document.ContentType, document.Author, document.SourceCreatedAt, text, spans);
    }

    public async Task<DocumentOriginal?> OriginalAsync(Guid id, CancellationToken ct)
    {
        var document = await db.Documents.AsNoTracking().Where(d => d.Id == id && d.DeletedAt == null)
            .Select(d => new { d.Title, d.ContentType, d.Content, d.Text, d.Metadata, d.ContentBlobKey })
            .SingleOrDefaultAsync(ct);
        if (document is null)
        {
            return null;
        }

        var stored = document.Content is { } bytes ? new MemoryStream(bytes, writable: false)
            : document.ContentBlobKey is { } key ? await blobs.OpenReadAsync(key, ct)
            : document.Text is { } text ? new MemoryStream(Encoding.UTF8.GetBytes(text), writable: false)
            : null;
        if (stored is null)
        {
            return null;
        }

        var metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(document.Metadata) ?? [];
        var name = metadata.GetValueOrDefault("fileName") is { Length: > 0 } fileName ? Path.GetFileName(fileName) : SafeName(document.Title) + Extension(document.ContentType);
        return document.Content is null && document.ContentBlobKey is null
            ? new DocumentOriginal(name, "text/plain; charset=utf-8", stored)
            : new DocumentOriginal(name, document.ContentType, stored);
    }

    /// <summary>
    /// The chunk's place in the text, found by its opening and closing words with whitespace runs compared as one
    /// space (a chunk joins blocks differently from the full text). Offsets are the original text's.
    /// </summary>
    private static (int? Start, int? End) Locate(NormalizedText text, string chunk, int from)
    {
        var normalized = NormalizedText.Collapse(chunk);
        var probe = normalized.Length > 60 ? normalized[..60] : normalized;
        var at = text.IndexOf(probe, from);
        if (at < 0)
        {
            at = text.IndexOf(probe, 0);
        }

        if (at < 0)
        {
            return (null, null);
        }

        var tail = normalized.Length > 60 ? normalized[^60..] : normalized;
        var tailAt = text.IndexOf(tail, at);
        var endNormalized = tailAt >= 0 ? tailAt + tail.Length : Math.Min(text.Length, at + normalized.Length);
        return (text.Original(at), text.OriginalEnd(endNormalized));
    }

    /// <summary>A text with whitespace runs collapsed, and the map from its positions back to the original's.</summary>
    private sealed class NormalizedText
    {
        private readonly string _value;
        private readonly int[] _map;
        private readonly int _originalLength;

        public NormalizedText(string original)
        {
            var builder = new StringBuilder(original.Length);
            var map = new List<int>(original.Length);
            var lastWasSpace = false;
            for (var i = 0; i < original.Length; i++)
            {
                if (char.IsWhiteSpace(original[i]))
                {
                    if (lastWasSpace || builder.Length == 0)
                    {
                        continue;
                    }

                    builder.Append(' ');
                    lastWasSpace = true;
                }
                else
                {
                    builder.Append(original[i]);
                    lastWasSpace = false;
                }

                map.Add(i);
            }

            _value = builder.ToString();
            _map = [.. map];
            _originalLength = original.Length;
        }

        public int Length => _value.Length;

        public static string Collapse(string text) => new NormalizedText(text)._value.TrimEnd();

        public int IndexOf(string probe, int from) => probe.Length == 0 ? -1 : _value.IndexOf(probe, Math.Clamp(from, 0, _value.Length), StringComparison.Ordinal);

        public int Original(int position) => position < _map.Length ? _map[position] : _originalLength;

        public int OriginalEnd(int position) => position <= 0 ? 0 : position - 1 < _map.Length ? _map[position - 1] + 1 : _originalLength;

        /// <summary>The normalized position of an original offset (the first at or after it).</summary>
        public int FromOriginal(int offset)
        {
            var index = Array.BinarySearch(_map, offset);
            return index >= 0 ? index : ~index;
        }
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
