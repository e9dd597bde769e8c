using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using SecondBrain.Benchmarks.Reporting;
using SecondBrain.Benchmarks.Stack;
using SecondBrain.Core.AI;
using SecondBrain.Core.Search;
using SecondBrain.ServiceDefaults.Telemetry;

namespace SecondBrain.Benchmarks.Search;

/// <summary>
/// Search p50/p95 through the API with many chunks in one tenant (local mode, Postgres vector index). Chunks are
/// bulk-loaded with precomputed clustered unit vectors (embedding 100,000 chunks on 2 cores would take most of an
/// hour); queries are real texts embedded by the real model through the cache. Also the embedding cache's L1 and
/// L2 hit latency against the stack's Redis.
/// </summary>
public static class SearchLatencyBenchmark
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly string[] Words =
    [
        "release", "budget", "customer", "incident", "database", "migration", "latency", "checkout", "refund", "invoice",
        "roadmap", "hiring", "security", "audit", "vendor", "contract", "deadline", "owner", "decision", "process",
        "metric", "revenue", "pipeline", "deploy", "rollback", "timeout", "payment", "support", "escalation", "onboarding"
    ];

    public static async Task<BenchmarkReport> RunAsync(BenchmarkArguments arguments)
    {
        var chunkCount = arguments.Options.TryGetValue("chunks", out var c) ? int.Parse(c, CultureInfo.InvariantCulture) : 100_000;
        var queryCount = arguments.Options.TryGetValue("queries", out var q) ? int.Parse(q, CultureInfo.InvariantCulture) : 200;
        await using var stack = await SecondBrainStack.StartAsync(1, 1);
        var session = await BenchmarkSession.SignupAsync(stack.ApiAddresses[0]);
        var client = await session.ClientAsync();
        var me = (await client.GetFromJsonAsync<JsonElement>("api/auth/me", Json));
        var tenantId = me.GetProperty("tenant").GetProperty("id").GetGuid();

        var load = Stopwatch.StartNew();
        await BulkLoadAsync(stack.DatabaseConnectionString, tenantId, chunkCount);
        Console.WriteLine($"search-latency: loaded {chunkCount} chunks in {load.Elapsed.TotalSeconds:F0}s");

        var random = new Random(7);
        var queries = Enumerable.Range(0, queryCount).Select(_ => string.Join(' ', Enumerable.Range(0, 5).Select(_ => Words[random.Next(Words.Length)]))).ToList();
        var rows = new List<IReadOnlyList<string>>();
        var data = new List<object>();
        foreach (var mode in new[] { SearchModes.Dense, SearchModes.Keyword, SearchModes.Hybrid })
        {
            // Warm-up: JIT, connection pools and the embedding cache for these query texts.
            foreach (var query in queries.Take(20))
            {
                (await client.PostAsJsonAsync("api/search", new SearchRequest(query, mode, 10))).EnsureSuccessStatusCode();
            }

            var latencies = new List<double>();
            var stages = new List<SearchTimings>();
            foreach (var query in queries)
            {
                var watch = Stopwatch.StartNew();
                var response = await client.PostAsJsonAsync("api/search", new SearchRequest(query, mode, 10));
                response.EnsureSuccessStatusCode();
                var body = (await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!;
                latencies.Add(watch.Elapsed.TotalMilliseconds);
                stages.Add(body.Timings!);
            }

            latencies.Sort();
            var p50 = latencies[latencies.Count / 2];
            var p95 = latencies[(int)(latencies.Count * 0.95)];
            double Median(Func<SearchTimings, double> stage) => stages.Select(stage).Order().ElementAt(stages.Count / 2);
            var breakdown = new
            {
                Embed = Median(t => t.EmbedMilliseconds), Dense = Median(t => t.DenseMilliseconds),
                Keyword = Median(t => t.KeywordMilliseconds), Load = Median(t => t.LoadMilliseconds)
            };
            rows.Add([mode, chunkCount.ToString(CultureInfo.InvariantCulture), F(p50), F(p95),
                $"embed {F(breakdown.Embed)} / dense {F(breakdown.Dense)} / keyword {F(breakdown.Keyword)} / load {F(breakdown.Load)}"]);
            data.Add(new { Mode = mode, Chunks = chunkCount, Queries = queries.Count, P50Milliseconds = p50, P95Milliseconds = p95, MedianStageMilliseconds = breakdown });
        }

        var (l1, l2) = await CacheLatencyAsync(stack);
        rows.Add(["embedding cache", "-", $"L1 hit {l1 * 1000:F1} µs", $"L2 hit {l2:F2} ms", "-"]);
        return new BenchmarkReport("search-latency",
            $"search through the API, one tenant with {chunkCount} chunks, local mode (Postgres index), {Environment.ProcessorCount} cores",
            ["mode", "chunks", "p50 ms", "p95 ms", "median stage ms (server side)"], rows,
            new { Results = data, EmbeddingCacheL1HitMilliseconds = l1, EmbeddingCacheL2HitMilliseconds = l2 });
    }

    private static string F(double value) => value.ToString("F1", CultureInfo.InvariantCulture);

    private static async Task BulkLoadAsync(string connectionString, Guid tenantId, int count)
    {
        var random = new Random(42);
        const int dimensions = 384;
        var centres = Enumerable.Range(0, 200).Select(_ => Normalise(Enumerable.Range(0, dimensions).Select(_ => (float)Gaussian(random)).ToArray())).ToArray();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // In slices: each COPY is one statement whose trigger writes the slice's BM25 postings at its end.
        const int slice = 10_000;
        var documentId = Guid.CreateVersion7();
        for (var sliceStart = 0; sliceStart < count; sliceStart += slice)
        {
            await using var writer = await connection.BeginBinaryImportAsync(
                "COPY chunks (id, tenant_id, document_id, document_version, position, text, kind, section, page, token_count, source, author, document_date, title, embedding, embedding_bits, created_at) FROM STDIN (FORMAT BINARY)");
            writer.Timeout = TimeSpan.FromMinutes(10);
            for (var i = sliceStart; i < Math.Min(count, sliceStart + slice); i++)
            {
                if (i % 5 == 0)
                {
                    documentId = Guid.CreateVersion7();
                }

                var centre = centres[random.Next(centres.Length)];
                var vector = Normalise(centre.Select(x => x + (float)(Gaussian(random) * 0.06)).ToArray());
                var text = string.Join(' ', Enumerable.Range(0, 60).Select(_ => Words[random.Next(Words.Length)]));
                await writer.StartRowAsync();
                await writer.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                await writer.WriteAsync(tenantId, NpgsqlDbType.Uuid);
                await writer.WriteAsync(documentId, NpgsqlDbType.Uuid);
                await writer.WriteAsync(1, NpgsqlDbType.Integer);
                await writer.WriteAsync(i % 5, NpgsqlDbType.Integer);
                await writer.WriteAsync(text, NpgsqlDbType.Text);
                await writer.WriteAsync("paragraph", NpgsqlDbType.Varchar);
                await writer.WriteNullAsync();
                await writer.WriteNullAsync();
                await writer.WriteAsync(80, NpgsqlDbType.Integer);
                await writer.WriteAsync("upload", NpgsqlDbType.Varchar);
                await writer.WriteAsync("Bench", NpgsqlDbType.Text);
                await writer.WriteAsync(DateTimeOffset.UtcNow.AddDays(-random.Next(1000)), NpgsqlDbType.TimestampTz);
                await writer.WriteAsync($"Document {i / 5}", NpgsqlDbType.Text);
                await writer.WriteAsync(vector, NpgsqlDbType.Array | NpgsqlDbType.Real);
                await writer.WriteAsync(new BitArray(vector.Select(x => x > 0).ToArray()), NpgsqlDbType.Varbit);
                await writer.WriteAsync(DateTimeOffset.UtcNow, NpgsqlDbType.TimestampTz);
            }

            await writer.CompleteAsync();
        }

        // What autovacuum would do after such a load: statistics for the planner and the visibility map that lets
        // the document-frequency counts run as index-only scans.
        foreach (var table in new[] { "chunks", "chunk_terms" })
        {
            await using var vacuum = new NpgsqlCommand($"VACUUM ANALYZE {table}", connection) { CommandTimeout = 0 };
            await vacuum.ExecuteNonQueryAsync();
        }
    }

    private static async Task<(double L1Ms, double L2Ms)> CacheLatencyAsync(SecondBrainStack stack)
    {
        using var generator = new LocalMiniLmEmbeddingGenerator();
        var options = Options.Create(new EmbeddingOptions());
        var texts = Enumerable.Range(0, 200).Select(i => $"cache latency probe {i}").ToList();
        using (var warm = new CachedEmbeddingService(generator, stack.Redis, new BoundedCacheRegistry(), options, NullLogger<CachedEmbeddingService>.Instance))
        {
            await warm.EmbedAsync(texts);
        }

        // A new service instance has an empty L1: every first read is an L2 (Redis) hit, every second read an L1 hit.
        using var service = new CachedEmbeddingService(generator, stack.Redis, new BoundedCacheRegistry(), options, NullLogger<CachedEmbeddingService>.Instance);
        var l2 = Stopwatch.StartNew();
        foreach (var text in texts)
        {
            await service.EmbedOneAsync(text);
        }

        var l2Ms = l2.Elapsed.TotalMilliseconds / texts.Count;
        var l1 = Stopwatch.StartNew();
        for (var round = 0; round < 50; round++)
        {
            foreach (var text in texts)
            {
                await service.EmbedOneAsync(text);
            }
        }

        return (l1.Elapsed.TotalMilliseconds / (texts.Count * 50), l2Ms);
    }

    private static float[] Normalise(float[] v)
    {
        var norm = Math.Sqrt(v.Sum(x => (double)x * x));
        return v.Select(x => (float)(x / norm)).ToArray();
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
