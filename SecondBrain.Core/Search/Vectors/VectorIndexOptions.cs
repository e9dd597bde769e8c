using System.ComponentModel.DataAnnotations;

namespace SecondBrain.Core.Search.Vectors;

/// <summary>Settings of the vector index (section <c>VectorIndex</c>); the same on every instance.</summary>
public sealed class VectorIndexOptions
{
    public const string SectionName = "VectorIndex";

    /// <summary>
    /// Postgres: Hamming candidates fetched per wanted hit before exact rescoring. Measured on 20,000 clustered
    /// 384-dimension vectors (the VectorIndex tests): 10 gives recall@10 of about 0.985, 20 about 0.998 for ~20 ms.
    /// Corpora whose neighbours are barely closer than strangers (nearest cosine ~0.3) need more: 80 reached 0.93.
    /// </summary>
    [Range(1, 1000)]
    public int Oversampling { get; set; } = 20;

    /// <summary>Postgres: lower bound on the candidates, so small limits still get a wide enough net.</summary>
    [Range(1, 100_000)]
    public int MinCandidates { get; set; } = 200;

    /// <summary>
    /// Postgres: upper bound on the candidates whose full vectors are fetched and rescored. Each costs a TOAST read of
    /// 1.5 KB; the hybrid search asks for 50 dense results, which at 20x oversampling would fetch 1,000 vectors (about
    /// 30 ms at 100,000 chunks) for ranks that reciprocal rank fusion barely weighs.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxCandidates { get; set; } = 400;

    /// <summary>Rows (Postgres) or points (Qdrant) written per statement or request.</summary>
    [Range(1, 10_000)]
    public int UpsertBatchSize { get; set; } = 500;

    /// <summary>
    /// Qdrant: the embedding model's short name, part of the collection name (<c>chunks_{model}_{dimensions}</c>),
    /// so vectors of different models never share a collection.
    /// </summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-]{1,64}$")]
    public string Model { get; set; } = "minilm";
}
