using System.Collections;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using SecondBrain.Core.Data;

namespace SecondBrain.Core.Search.Vectors;

/// <summary>
/// Local mode's vector index: the vectors live on the chunk rows themselves (<c>embedding real[]</c> plus its
/// sign-bit quantisation <c>embedding_bits bit varying</c>), so there is no second store to keep in step and
/// nothing held in process: any instance answers any query.
/// </summary>
/// <remarks>
/// Search is two-stage. Postgres ranks the tenant's filtered rows by the Hamming distance between sign bits (48
/// bytes a row for 384 dimensions, read without touching the full vectors) and keeps
/// <c>max(limit × Oversampling, MinCandidates)</c> (at most <c>MaxCandidates</c>); only those candidates' full vectors are fetched and rescored
/// exactly by cosine here. No Postgres extension is needed, which is the point of local mode.
/// The chunk rows are written by ingestion, which also copies source, author and date onto them, so only the
/// vector columns are written here and the filter fields of <see cref="VectorRecord"/> are not.
/// </remarks>
public sealed class PostgresVectorIndex(SecondBrainDbContext db, IOptions<VectorIndexOptions> options, ILogger<PostgresVectorIndex> logger)
    : IVectorIndex
{
    public string Name => "postgres";

    public async Task EnsureReadyAsync(int dimensions, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);

        // The columns come with the migrations; checking turns a database that missed them into a clear message
        // at start instead of a SQL error on the first search. Catalog only, so no tenant is involved.
        const string sql = """
            SELECT count(*) FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = 'chunks' AND column_name IN ('embedding', 'embedding_bits')
            """;
        var found = await RunAsync(async (connection, transaction, ct) =>
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            return Convert.ToInt32(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
        }, cancellationToken);

        if (found != 2)
        {
            throw new InvalidOperationException("The chunks table has no embedding columns; apply the database migrations first.");
        }
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

        // unnest() would flatten a two-dimensional array into scalars, so the vectors travel as one flat real[] and
        // each row takes its slice by ordinality. One statement per batch; rewriting the same vector is harmless,
        // so a retried batch is too.
        const string sql = """
            UPDATE chunks AS c
            SET embedding = @vectors[(v.ord::int - 1) * @dims + 1 : v.ord::int * @dims],
                embedding_bits = v.bits
            FROM unnest(@ids, @documents, @bits) WITH ORDINALITY AS v(id, document_id, bits, ord)
            WHERE c.tenant_id = @tenant AND c.id = v.id AND c.document_id = v.document_id
            """;

        var batchSize = options.Value.UpsertBatchSize;
        var updated = await RunAsync(async (connection, transaction, ct) =>
        {
            var total = 0;
            for (var start = 0; start < records.Count; start += batchSize)
            {
                var count = Math.Min(batchSize, records.Count - start);
                var ids = new Guid[count];
                var documents = new Guid[count];
                var bits = new BitArray[count];
                var vectors = new float[count * dimensions];
                for (var i = 0; i < count; i++)
                {
                    var record = records[start + i];
                    ids[i] = record.ChunkId;
                    documents[i] = record.DocumentId;
                    bits[i] = VectorMath.SignBits(record.Vector);
                    record.Vector.CopyTo(vectors, i * dimensions);
                }

                await using var command = new NpgsqlCommand(sql, connection, transaction);
                command.Parameters.Add(new NpgsqlParameter<Guid>("tenant", NpgsqlDbType.Uuid) { TypedValue = tenantId });
                command.Parameters.Add(new NpgsqlParameter<int>("dims", NpgsqlDbType.Integer) { TypedValue = dimensions });
                command.Parameters.Add(new NpgsqlParameter<float[]>("vectors", NpgsqlDbType.Array | NpgsqlDbType.Real) { TypedValue = vectors });
                command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = ids });
                command.Parameters.Add(new NpgsqlParameter<Guid[]>("documents", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = documents });
                command.Parameters.Add(new NpgsqlParameter<BitArray[]>("bits", NpgsqlDbType.Array | NpgsqlDbType.Varbit) { TypedValue = bits });
                total += await command.ExecuteNonQueryAsync(ct);
            }

            return total;
        }, cancellationToken);

        if (updated < records.Count)
        {
            // Expected when a document is deleted or re-versioned while its chunks were being embedded; anything
            // else means vectors were sent for chunk rows that were never written.
            logger.LogWarning("{Missing} of {Count} vectors for tenant {TenantId} matched no chunk row and were dropped",
                records.Count - updated, records.Count, tenantId);
        }
    }

    public async Task DeleteDocumentAsync(Guid tenantId, Guid documentId, CancellationToken cancellationToken)
    {
        RequireTenant(tenantId);

        // Only the vector columns belong to the index: the rows (and their keyword data) are ingestion's to delete,
        // and it may already have, so this clears whatever is left and is a no-op the second time.
        const string sql = """
            UPDATE chunks SET embedding = NULL, embedding_bits = NULL
            WHERE tenant_id = @tenant AND document_id = @document AND (embedding IS NOT NULL OR embedding_bits IS NOT NULL)
            """;
        await RunAsync(async (connection, transaction, ct) =>
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<Guid>("tenant", NpgsqlDbType.Uuid) { TypedValue = tenantId });
            command.Parameters.Add(new NpgsqlParameter<Guid>("document", NpgsqlDbType.Uuid) { TypedValue = documentId });
            return await command.ExecuteNonQueryAsync(ct);
        }, cancellationToken);
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

        var settings = options.Value;
        var candidates = (int)Math.Max(Math.Min(Math.Max((long)limit * settings.Oversampling, settings.MinCandidates), settings.MaxCandidates), limit);

        var parameters = new List<NpgsqlParameter>
        {
            new NpgsqlParameter<Guid>("tenant", NpgsqlDbType.Uuid) { TypedValue = tenantId },
            new NpgsqlParameter<BitArray>("qbits", NpgsqlDbType.Varbit) { TypedValue = VectorMath.SignBits(query) },
            new NpgsqlParameter<int>("dims", NpgsqlDbType.Integer) { TypedValue = query.Length },
            new NpgsqlParameter<int>("candidates", NpgsqlDbType.Integer) { TypedValue = candidates },
        };

        var conditions = ChunkFilterSql.Conditions(filter, "", parameters);

        // The length condition keeps vectors of another model's dimensions out (their bit strings could not be
        // XORed with the query's). The candidates' full vectors are read by primary key only after the Hamming cut.
        var sql = $"""
            SELECT c.id, c.document_id, c.embedding
            FROM (
                SELECT id FROM chunks
                WHERE tenant_id = @tenant AND embedding_bits IS NOT NULL AND length(embedding_bits) = @dims{conditions}
                ORDER BY bit_count(embedding_bits # @qbits), id
                LIMIT @candidates
            ) AS k
            JOIN chunks AS c ON c.id = k.id AND c.tenant_id = @tenant
            WHERE c.embedding IS NOT NULL
            """;

        var scored = await RunAsync(async (connection, transaction, ct) =>
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.AddRange(parameters.ToArray());
            var hits = new List<VectorHit>(candidates);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var vector = reader.GetFieldValue<float[]>(2);
                hits.Add(new VectorHit(reader.GetGuid(0), reader.GetGuid(1), VectorMath.Cosine(query, vector)));
            }

            return hits;
        }, cancellationToken);

        return scored
            .OrderByDescending(h => h.Score)
            .ThenBy(h => h.ChunkId)
            .Take(limit)
            .ToList();
    }

    /// <summary>
    /// Runs raw SQL on the context's connection: inside the caller's transaction when there is one (a retry would
    /// have to replay that whole transaction, which only the caller can do), else under the context's retrying
    /// execution strategy, since every statement here is idempotent.
    /// </summary>
    private async Task<T> RunAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction?, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is { } current)
        {
            return await work((NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)current.GetDbTransaction(), cancellationToken);
        }

        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async ct =>
        {
            await db.Database.OpenConnectionAsync(ct);
            try
            {
                return await work((NpgsqlConnection)db.Database.GetDbConnection(), null, ct);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }, cancellationToken);
    }

    private static void RequireTenant(Guid tenantId)
    {
        if (tenantId == Guid.Empty)
        {
            throw new ArgumentException("A vector index call needs a tenant.", nameof(tenantId));
        }
    }
}
