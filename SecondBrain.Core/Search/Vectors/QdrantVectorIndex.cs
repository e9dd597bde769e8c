using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qdrant.Client;
using Qdrant.Client.Grpc;

namespace SecondBrain.Core.Search.Vectors;

/// <summary>
/// Container mode's vector index: Qdrant over gRPC, one collection per embedding model and dimension
/// (<c>chunks_{model}_{dimensions}</c>) holding every tenant's chunks, partitioned by a <c>tenant_id</c> payload.
/// </summary>
/// <remarks>
/// Why one collection per model and not one per tenant: each Qdrant collection carries its own segments,
/// optimiser, WAL and HNSW graph, so thousands of tenants would mean thousands of collections and that overhead
/// paid thousands of times, mostly for tiny tenants. Payload-partitioned multitenancy keeps one set of those: the
/// <c>tenant_id</c> keyword index is marked <c>is_tenant</c>, so Qdrant lays each tenant's points out together
/// and a search filtered on it stays local to that tenant's part; with <c>m = 0, payload_m = 16</c> it builds
/// per-tenant graphs instead of one global graph no query would use, since every search here carries the tenant.
/// A new model or dimension gets a new collection, so vectors of different models never meet in one search.
/// </remarks>
public sealed class QdrantVectorIndex(QdrantClient client, IOptions<VectorIndexOptions> options) : IVectorIndex
{
    /// <summary>Name of the connection string: <c>Endpoint=http://host:6334;Key=...</c>.</summary>
    public const string ConnectionName = "qdrant";

    private const string TenantField = "tenant_id";
    private const string DocumentField = "document_id";
    private const string SourceField = "source";
    private const string AuthorField = "author";
    private const string DateField = "document_date";

    // Collections known to exist with their indexes; a handful of names at most (one per model and dimension).
    private readonly ConcurrentDictionary<string, bool> _ready = new(StringComparer.Ordinal);

    public string Name => "qdrant";

    public string CollectionName(int dimensions) =>
        string.Create(CultureInfo.InvariantCulture, $"{CollectionPrefix}{dimensions}");

    private string CollectionPrefix => $"chunks_{options.Value.Model.ToLowerInvariant().Replace('-', '_')}_";

    /// <summary>Builds a client from <c>Endpoint=http://host:6334;Key=...</c> (the Aspire Qdrant connection string).</summary>
    public static QdrantClient CreateClient(string connectionString, ILoggerFactory? loggerFactory = null)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!builder.TryGetValue("Endpoint", out var endpointValue)
            || !Uri.TryCreate(Convert.ToString(endpointValue, CultureInfo.InvariantCulture), UriKind.Absolute, out var endpoint))
        {
            throw new InvalidOperationException("The Qdrant connection string needs an absolute Endpoint, e.g. Endpoint=http://localhost:6334;Key=...");
        }

        var key = builder.TryGetValue("Key", out var keyValue) ? Convert.ToString(keyValue, CultureInfo.InvariantCulture) : null;
        return new QdrantClient(endpoint, string.IsNullOrEmpty(key) ? null : key, loggerFactory: loggerFactory);
    }

    public async Task EnsureReadyAsync(int dimensions, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        await EnsureCollectionAsync(dimensions, cancellationToken);
    }

    public async Task UpsertAsync(Guid tenantId, IReadOnlyList<VectorRecord> records, CancellationToken cancellationToken)
    {
        RequireTenant(tenantId);
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return;
        }

        var dimensions = records[0].Vector.Length;
        foreach (var record in records)
        {
            VectorMath.RequireFinite(record.Vector, "chunk");
            if (record.Vector.Length != dimensions)
            {
                throw new ArgumentException($"All vectors of one upsert must have the same dimensions ({dimensions}); chunk {record.ChunkId} has {record.Vector.Length}.", nameof(records));
            }
        }

        var collection = await EnsureCollectionAsync(dimensions, cancellationToken);
        var tenant = tenantId.ToString();
        var batchSize = options.Value.UpsertBatchSize;
        for (var start = 0; start < records.Count; start += batchSize)
        {
            var points = new List<PointStruct>(Math.Min(batchSize, records.Count - start));
            for (var i = start; i < records.Count && i < start + batchSize; i++)
            {
                points.Add(ToPoint(tenant, records[i]));
            }

            try
            {
                // wait: the caller may search right after, possibly through another instance.
                await client.UpsertAsync(collection, points, wait: true, cancellationToken: cancellationToken);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                // The collection was dropped behind this process's back (an operator reset); make it again, once.
                _ready.TryRemove(collection, out _);
                await EnsureCollectionAsync(dimensions, cancellationToken);
                await client.UpsertAsync(collection, points, wait: true, cancellationToken: cancellationToken);
            }
        }
    }

    public async Task DeleteDocumentAsync(Guid tenantId, Guid documentId, CancellationToken cancellationToken)
    {
        RequireTenant(tenantId);
        var filter = new Filter
        {
            Must =
            {
                Conditions.MatchKeyword(TenantField, tenantId.ToString()),
                Conditions.MatchKeyword(DocumentField, documentId.ToString()),
            },
        };

        // Every dimension of this model: a document embedded before a dimension change must not linger in the old
        // collection. Deleting by filter matches nothing the second time, so this is idempotent.
        var prefix = CollectionPrefix;
        foreach (var collection in await client.ListCollectionsAsync(cancellationToken))
        {
            if (collection.StartsWith(prefix, StringComparison.Ordinal))
            {
                await client.DeleteAsync(collection, filter, wait: true, cancellationToken: cancellationToken);
            }
        }
    }

    public async Task<IReadOnlyList<VectorHit>> SearchAsync(Guid tenantId, float[] query, int limit, VectorFilter? filter, CancellationToken cancellationToken)
    {
        RequireTenant(tenantId);
        ArgumentNullException.ThrowIfNull(query);
        VectorMath.RequireFinite(query, "query");
        if (limit <= 0)
        {
            return [];
        }

        IReadOnlyList<ScoredPoint> points;
        try
        {
            points = await client.QueryAsync(
                CollectionName(query.Length),
                query: query,
                filter: BuildFilter(tenantId, filter),
                limit: (ulong)limit,
                payloadSelector: new[] { DocumentField },
                cancellationToken: cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return []; // nothing of this model and dimension has been indexed yet
        }

        return points
            .Select(p => new VectorHit(
                Guid.Parse(p.Id.Uuid),
                p.Payload.TryGetValue(DocumentField, out var document) ? Guid.Parse(document.StringValue) : Guid.Empty,
                p.Score))
            .ToList();
    }

    private static PointStruct ToPoint(string tenant, VectorRecord record)
    {
        // Point id = chunk id, so re-ingesting a chunk overwrites its point. Chunk ids are random v7 Guids made by
        // the server, so one tenant cannot name another tenant's point.
        var point = new PointStruct
        {
            Id = record.ChunkId,
            Vectors = record.Vector,
            Payload =
            {
                [TenantField] = tenant,
                [DocumentField] = record.DocumentId.ToString(),
                [SourceField] = record.Source,
            },
        };

        if (record.Author is { Length: > 0 } author)
        {
            point.Payload[AuthorField] = author;
        }

        if (record.DocumentDate is { } date)
        {
            point.Payload[DateField] = date.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        }

        return point;
    }

    private static Filter BuildFilter(Guid tenantId, VectorFilter? filter)
    {
        var result = new Filter { Must = { Conditions.MatchKeyword(TenantField, tenantId.ToString()) } };
        if (filter?.Sources is { Count: > 0 } sources)
        {
            result.Must.Add(Conditions.Match(SourceField, sources));
        }

        if (!string.IsNullOrWhiteSpace(filter?.Author))
        {
            // Full-text match on the lower-cased word index: every word given must occur in the author, the closest
            // Qdrant has to the Postgres index's case-insensitive substring match.
            result.Must.Add(Conditions.MatchText(AuthorField, filter.Author.Trim()));
        }

        if (filter?.From is not null || filter?.To is not null)
        {
            result.Must.Add(Conditions.DatetimeRange(DateField, gte: filter.From?.UtcDateTime, lte: filter.To?.UtcDateTime));
        }

        return result;
    }

    private async Task<string> EnsureCollectionAsync(int dimensions, CancellationToken ct)
    {
        var name = CollectionName(dimensions);
        if (_ready.ContainsKey(name))
        {
            return name;
        }

        if (await client.CollectionExistsAsync(name, ct))
        {
            var info = await client.GetCollectionInfoAsync(name, ct);
            var size = info.Config?.Params?.VectorsConfig?.Params?.Size;
            if (size is not null && size != (ulong)dimensions)
            {
                throw new InvalidOperationException($"Qdrant collection '{name}' holds vectors of {size} dimensions, not {dimensions}.");
            }
        }
        else
        {
            try
            {
                await client.CreateCollectionAsync(
                    name,
                    new VectorParams { Size = (ulong)dimensions, Distance = Distance.Cosine },
                    hnswConfig: new HnswConfigDiff { M = 0, PayloadM = 16 },
                    cancellationToken: ct);
            }
            catch (RpcException ex) when (IsAlreadyExists(ex))
            {
                // Another instance created it first; its settings are the same as ours.
            }
        }

        // Creating an index that exists with the same schema is accepted by Qdrant, so every instance may run this.
        await CreateIndexAsync(name, TenantField, PayloadSchemaType.Keyword,
            new PayloadIndexParams { KeywordIndexParams = new KeywordIndexParams { IsTenant = true } }, ct);
        // The other indexes serve filters only; per-value graphs for them would cost memory and build time.
        await CreateIndexAsync(name, DocumentField, PayloadSchemaType.Keyword,
            new PayloadIndexParams { KeywordIndexParams = new KeywordIndexParams { EnableHnsw = false } }, ct);
        await CreateIndexAsync(name, SourceField, PayloadSchemaType.Keyword,
            new PayloadIndexParams { KeywordIndexParams = new KeywordIndexParams { EnableHnsw = false } }, ct);
        await CreateIndexAsync(name, AuthorField, PayloadSchemaType.Text,
            new PayloadIndexParams { TextIndexParams = new TextIndexParams { Tokenizer = TokenizerType.Word, Lowercase = true, EnableHnsw = false } }, ct);
        await CreateIndexAsync(name, DateField, PayloadSchemaType.Datetime,
            new PayloadIndexParams { DatetimeIndexParams = new DatetimeIndexParams { EnableHnsw = false } }, ct);

        _ready[name] = true;
        return name;
    }

    private async Task CreateIndexAsync(string collection, string field, PayloadSchemaType type, PayloadIndexParams parameters, CancellationToken ct)
    {
        try
        {
            await client.CreatePayloadIndexAsync(collection, field, type, parameters, wait: true, cancellationToken: ct);
        }
        catch (RpcException ex) when (IsAlreadyExists(ex))
        {
            // Created concurrently by another instance.
        }
    }

    private static bool IsAlreadyExists(RpcException ex) =>
        ex.StatusCode == StatusCode.AlreadyExists
        || (ex.StatusCode == StatusCode.InvalidArgument && ex.Status.Detail.Contains("already exists", StringComparison.OrdinalIgnoreCase));

    private static void RequireTenant(Guid tenantId)
    {
        if (tenantId == Guid.Empty)
        {
            throw new ArgumentException("A vector index call needs a tenant.", nameof(tenantId));
        }
    }
}
