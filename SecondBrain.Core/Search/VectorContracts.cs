namespace SecondBrain.Core.Search;

/// <summary>A chunk's vector and the fields searches filter on.</summary>
public sealed record VectorRecord(Guid ChunkId, Guid DocumentId, float[] Vector, string Source, string? Author, DateTimeOffset? DocumentDate);

/// <summary>Filters applied inside the vector store, always together with the tenant.</summary>
public sealed record VectorFilter(IReadOnlyList<string>? Sources = null, string? Author = null, DateTimeOffset? From = null, DateTimeOffset? To = null);

public sealed record VectorHit(Guid ChunkId, Guid DocumentId, double Score);

/// <summary>
/// Where chunk vectors live: Qdrant in container mode, Postgres in local mode. Every call is scoped to one tenant
/// and the tenant filter is applied inside the store.
/// </summary>
public interface IVectorIndex
{
    /// <summary>Name for telemetry and benchmarks ("postgres", "qdrant").</summary>
    string Name { get; }

    Task EnsureReadyAsync(int dimensions, CancellationToken cancellationToken);

    Task UpsertAsync(Guid tenantId, IReadOnlyList<VectorRecord> records, CancellationToken cancellationToken);

    Task DeleteDocumentAsync(Guid tenantId, Guid documentId, CancellationToken cancellationToken);

    Task<IReadOnlyList<VectorHit>> SearchAsync(Guid tenantId, float[] query, int limit, VectorFilter? filter, CancellationToken cancellationToken);
}
