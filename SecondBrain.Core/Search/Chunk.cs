using System.Collections;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Search;

/// <summary>
/// A searchable piece of a document: its text (with a stored tsvector for keyword search) and, in local mode, its
/// embedding and a sign-bit quantisation of it for the Postgres vector index.
/// </summary>
public sealed class Chunk : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public Guid DocumentId { get; set; }
    public int DocumentVersion { get; set; }
    public int Position { get; set; }
    public required string Text { get; set; }
    public required string Kind { get; set; }
    public string? Section { get; set; }
    public int? Page { get; set; }
    public int TokenCount { get; set; }

    // Denormalised from the document so filters run on the chunk row alone.
    public required string Source { get; set; }
    public string? Author { get; set; }
    public DateTimeOffset? DocumentDate { get; set; }
    public required string Title { get; set; }

    public float[]? Embedding { get; set; }
    public BitArray? EmbeddingBits { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>A tenant's glossary entry: a term and what a query containing it should also look for.</summary>
public sealed class GlossaryEntry : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public required string Term { get; set; }
    public List<string> Expansions { get; set; } = [];
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
}
