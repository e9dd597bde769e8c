using SecondBrain.Core.Search;

namespace SecondBrain.Tests.Unit.VectorIndex;

/// <summary>What the shared behaviours need from one implementation: the index and a way to put chunks where it reads them.</summary>
public interface IVectorIndexHarness
{
    IVectorIndex Index { get; }

    /// <summary>Writes what ingestion would (the chunk rows, for Postgres) and upserts the vectors.</summary>
    Task StoreAsync(Guid tenantId, IReadOnlyList<VectorRecord> records);

    /// <summary>Deletes the chunk rows as ingestion does after <see cref="IVectorIndex.DeleteDocumentAsync"/>; nothing where there are no rows.</summary>
    Task RemoveRowsAsync(Guid tenantId, Guid documentId);
}

/// <summary>Random unit vectors, reproducible by seed.</summary>
public static class TestVectors
{
    public static float[] Random(Random random, int dimensions)
    {
        var vector = new float[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = Gaussian(random);
        }

        return Normalise(vector);
    }

    /// <summary>A unit vector near <paramref name="centre"/>: noise of about <paramref name="noise"/> in length added, then normalised.</summary>
    public static float[] Near(Random random, float[] centre, double noise)
    {
        var sigma = noise / Math.Sqrt(centre.Length);
        var vector = new float[centre.Length];
        for (var i = 0; i < centre.Length; i++)
        {
            vector[i] = centre[i] + (float)(sigma * Gaussian(random));
        }

        return Normalise(vector);
    }

    /// <summary>The unit vector along <paramref name="a"/> + <paramref name="weight"/> × <paramref name="b"/>.</summary>
    public static float[] Mix(float[] a, float[] b, double weight) =>
        Normalise([.. a.Select((x, i) => (float)(x + weight * b[i]))]);

    public static double Dot(float[] a, float[] b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static float[] Normalise(float[] vector)
    {
        var norm = Math.Sqrt(Dot(vector, vector));
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)(vector[i] / norm);
        }

        return vector;
    }

    private static float Gaussian(Random random)
    {
        // Box-Muller; 1 - NextDouble() keeps the logarithm's argument above zero.
        var u = 1.0 - random.NextDouble();
        var v = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v));
    }
}

/// <summary>The behaviours every <see cref="IVectorIndex"/> must show, run against Postgres and Qdrant alike.</summary>
public static class VectorIndexBehaviours
{
    public const int Dimensions = 32;

    private static CancellationToken Ct => CancellationToken.None;

    public static async Task RoundTripAsync(IVectorIndexHarness harness)
    {
        var tenant = Guid.NewGuid();
        var random = new Random(1);
        var (docA, docB) = (Guid.NewGuid(), Guid.NewGuid());
        var records = Enumerable.Range(0, 20)
            .Select(i => Record(i < 10 ? docA : docB, TestVectors.Random(random, Dimensions)))
            .ToList();
        await harness.Index.EnsureReadyAsync(Dimensions, Ct);
        await harness.Index.EnsureReadyAsync(Dimensions, Ct); // idempotent
        await harness.StoreAsync(tenant, records);

        var target = records[7];
        var hits = await harness.Index.SearchAsync(tenant, target.Vector, 5, null, Ct);

        Assert.Equal(5, hits.Count);
        Assert.Equal(target.ChunkId, hits[0].ChunkId);
        Assert.Equal(target.DocumentId, hits[0].DocumentId);
        Assert.InRange(hits[0].Score, 0.999, 1.001);
        Assert.Equal(hits.OrderByDescending(h => h.Score).Select(h => h.ChunkId), hits.Select(h => h.ChunkId));
        var exact = records.OrderByDescending(r => TestVectors.Dot(r.Vector, target.Vector)).Take(5).Select(r => r.ChunkId);
        Assert.Equal(exact, hits.Select(h => h.ChunkId));
        Assert.All(hits, h => Assert.Equal(records.Single(r => r.ChunkId == h.ChunkId).DocumentId, h.DocumentId));

        // Re-indexing a chunk replaces its vector; it never becomes a second entry.
        var moved = target with { Vector = TestVectors.Random(random, Dimensions) };
        await harness.Index.UpsertAsync(tenant, [moved], Ct);
        var top = Assert.Single(await harness.Index.SearchAsync(tenant, moved.Vector, 1, null, Ct));
        Assert.Equal(moved.ChunkId, top.ChunkId);
        Assert.InRange(top.Score, 0.999, 1.001);
        Assert.Equal(20, (await harness.Index.SearchAsync(tenant, moved.Vector, 50, null, Ct)).Count);
        Assert.Empty(await harness.Index.SearchAsync(tenant, moved.Vector, 0, null, Ct));
    }

    public static async Task TenantIsolationAsync(IVectorIndexHarness harness)
    {
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        var random = new Random(2);
        var query = TestVectors.Random(random, Dimensions);
        var (docA, docB) = (Guid.NewGuid(), Guid.NewGuid());
        // Tenant A's vectors are all nearly the query; tenant B's are random, so any leak would rank first.
        var aRecords = Enumerable.Range(0, 10).Select(_ => Record(docA, TestVectors.Near(random, query, 0.05), "gmail")).ToList();
        var bRecords = Enumerable.Range(0, 10).Select(_ => Record(docB, TestVectors.Random(random, Dimensions), "gmail")).ToList();
        await harness.Index.EnsureReadyAsync(Dimensions, Ct);
        await harness.StoreAsync(a, aRecords);
        await harness.StoreAsync(b, bRecords);

        var bHits = await harness.Index.SearchAsync(b, query, 50, null, Ct);
        Assert.Equal(bRecords.Select(r => r.ChunkId).Order(), bHits.Select(h => h.ChunkId).Order());
        var filtered = await harness.Index.SearchAsync(b, query, 50, new VectorFilter(Sources: ["gmail"]), Ct);
        Assert.Equal(bRecords.Select(r => r.ChunkId).Order(), filtered.Select(h => h.ChunkId).Order());

        var aHits = await harness.Index.SearchAsync(a, query, 50, null, Ct);
        Assert.Equal(aRecords.Select(r => r.ChunkId).Order(), aHits.Select(h => h.ChunkId).Order());
        Assert.True(aHits.Min(h => h.Score) > bHits.Max(h => h.Score), "tenant A's vectors are the closer ones");

        // Another tenant's delete cannot reach this tenant's document, and a tenant with nothing finds nothing.
        await harness.Index.DeleteDocumentAsync(b, docA, Ct);
        Assert.Equal(10, (await harness.Index.SearchAsync(a, query, 50, null, Ct)).Count);
        Assert.Empty(await harness.Index.SearchAsync(Guid.NewGuid(), query, 50, null, Ct));
    }

    public static async Task FiltersAsync(IVectorIndexHarness harness)
    {
        var tenant = Guid.NewGuid();
        var random = new Random(3);
        var query = TestVectors.Random(random, Dimensions);
        var doc = Guid.NewGuid();
        float[] Close() => TestVectors.Near(random, query, 0.3);
        var gmailAlice = Record(doc, Close(), "gmail", "Alice Smith", Day(2024, 1, 10));
        var slackBob = Record(doc, Close(), "slack", "Bob Jones", Day(2024, 2, 10));
        var boxAlice = Record(doc, Close(), "box", "alice cooper", Day(2024, 3, 10));
        var gmailNobody = Record(doc, Close(), "gmail", null, null);
        var slackAlice = Record(doc, Close(), "slack", "ALICE Smith", Day(2024, 2, 20));
        List<VectorRecord> records = [gmailAlice, slackBob, boxAlice, gmailNobody, slackAlice];
        await harness.Index.EnsureReadyAsync(Dimensions, Ct);
        await harness.StoreAsync(tenant, records);
        // Another tenant's chunks match every filter below and must never show up.
        await harness.StoreAsync(Guid.NewGuid(), [Record(Guid.NewGuid(), query, "gmail", "Alice Smith", Day(2024, 2, 15)), Record(Guid.NewGuid(), query, "slack", "Alice Smith", Day(2024, 2, 25))]);

        async Task Expect(VectorFilter filter, params VectorRecord[] expected)
        {
            var hits = await harness.Index.SearchAsync(tenant, query, 50, filter, Ct);
            Assert.Equal(expected.Select(r => r.ChunkId).Order(), hits.Select(h => h.ChunkId).Order());
        }

        await Expect(new VectorFilter(), [.. records]);
        await Expect(new VectorFilter(Sources: []), [.. records]);
        await Expect(new VectorFilter(Sources: ["gmail"]), gmailAlice, gmailNobody);
        await Expect(new VectorFilter(Sources: ["slack", "box"]), slackBob, boxAlice, slackAlice);
        await Expect(new VectorFilter(Sources: ["drive"]));
        await Expect(new VectorFilter(Author: "alice"), gmailAlice, boxAlice, slackAlice);
        await Expect(new VectorFilter(Author: "Alice Smith"), gmailAlice, slackAlice);
        await Expect(new VectorFilter(Author: "carol"));
        await Expect(new VectorFilter(From: Day(2024, 2, 1), To: Day(2024, 2, 28)), slackBob, slackAlice);
        await Expect(new VectorFilter(From: Day(2024, 2, 15)), boxAlice, slackAlice);
        await Expect(new VectorFilter(To: Day(2024, 1, 31)), gmailAlice);
        await Expect(new VectorFilter(From: Day(2024, 2, 10), To: Day(2024, 2, 10)), slackBob); // both ends inclusive
        await Expect(new VectorFilter(Sources: ["slack"], Author: "alice", From: Day(2024, 2, 15)), slackAlice);
    }

    public static async Task DeleteDocumentAsync(IVectorIndexHarness harness)
    {
        var tenant = Guid.NewGuid();
        var random = new Random(4);
        var query = TestVectors.Random(random, Dimensions);
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        var firstRecords = Enumerable.Range(0, 3).Select(_ => Record(first, TestVectors.Near(random, query, 0.1))).ToList();
        var secondRecords = Enumerable.Range(0, 3).Select(_ => Record(second, TestVectors.Near(random, query, 0.5))).ToList();
        await harness.Index.EnsureReadyAsync(Dimensions, Ct);
        await harness.StoreAsync(tenant, [.. firstRecords, .. secondRecords]);
        Assert.Equal(6, (await harness.Index.SearchAsync(tenant, query, 10, null, Ct)).Count);

        await harness.Index.DeleteDocumentAsync(tenant, first, Ct);
        var hits = await harness.Index.SearchAsync(tenant, query, 10, null, Ct);
        Assert.Equal(secondRecords.Select(r => r.ChunkId).Order(), hits.Select(h => h.ChunkId).Order());

        // Idempotent: again, after ingestion removed the rows too, and for a document that never existed.
        await harness.Index.DeleteDocumentAsync(tenant, first, Ct);
        await harness.RemoveRowsAsync(tenant, first);
        await harness.Index.DeleteDocumentAsync(tenant, first, Ct);
        await harness.Index.DeleteDocumentAsync(tenant, Guid.NewGuid(), Ct);
        Assert.Equal(3, (await harness.Index.SearchAsync(tenant, query, 10, null, Ct)).Count);

        await harness.Index.DeleteDocumentAsync(tenant, second, Ct);
        await harness.RemoveRowsAsync(tenant, second);
        Assert.Empty(await harness.Index.SearchAsync(tenant, query, 10, null, Ct));
    }

    public static VectorRecord Record(Guid documentId, float[] vector, string source = "upload", string? author = null, DateTimeOffset? date = null) =>
        new(Guid.CreateVersion7(), documentId, vector, source, author, date);

    private static DateTimeOffset Day(int year, int month, int day) => new(year, month, day, 12, 0, 0, TimeSpan.Zero);
}
