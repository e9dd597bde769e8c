using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.AI;
using SecondBrain.Benchmarks.Reporting;
using SecondBrain.Benchmarks.Stack;
using SecondBrain.Core.AI;
using SecondBrain.Core.Common;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Identity;
using SecondBrain.Core.Search;

namespace SecondBrain.Benchmarks.Retrieval;

/// <summary>
/// Retrieval quality and ingestion throughput on a BEIR dataset (SciFact by default) through the real pipeline:
/// documents posted to the API, ingested by the Worker (parse, chunk, embed, index), queries run through
/// POST /api/search in dense, keyword and hybrid mode. Reports nDCG@10, Recall@10, Recall@100, MRR@10, and the
/// ingestion rate against the raw embedding throughput of the same model measured in the same run.
/// </summary>
public static class RetrievalBenchmark
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<BenchmarkReport> RunAsync(BenchmarkArguments arguments)
    {
        var datasets = Environment.GetEnvironmentVariable("SECONDBRAIN_DATASETS") ?? Path.GetFullPath("../shared/datasets");
        var corpusPath = arguments.Options.GetValueOrDefault("corpus") ?? Path.Combine(datasets, "scifact", "corpus.part*.jsonl");
        var queriesPath = arguments.Options.GetValueOrDefault("queries") ?? Path.Combine(datasets, "scifact", "queries.train.jsonl");
        var qrelsPath = arguments.Options.GetValueOrDefault("qrels") ?? Path.Combine(datasets, "scifact", "qrels", "train.tsv");
        var maxQueries = arguments.Options.TryGetValue("max-queries", out var mq) ? int.Parse(mq, CultureInfo.InvariantCulture) : int.MaxValue;
        var dataset = BeirDataset.Load(corpusPath, queriesPath, qrelsPath);
        Console.WriteLine($"retrieval: {dataset.Corpus.Count} documents, {dataset.Qrels.Count} judged queries");

        // Raw embedding throughput of the same model, in this process, on the same texts (first 1,000 documents).
        var raw = await RawEmbeddingThroughputAsync(dataset.Corpus.Take(1000).Select(d => $"{d.Title}\n{d.Text}").ToList());
        Console.WriteLine($"retrieval: raw embedding throughput {raw:F1} texts/s");

        // --data DIR keeps the stack's files: a rerun embeds nothing (Redis holds the embedding cache), which makes
        // quality runs quick but its ingestion rate meaningless.
        var keptData = arguments.Options.GetValueOrDefault("data");
        var reused = keptData is not null && Directory.Exists(Path.Combine(keptData, "redis"));
        await using var stack = await SecondBrainStack.StartAsync(1, 1, keptDataDirectory: keptData);
        var session = await BenchmarkSession.SignupAsync(stack.ApiAddresses[0]);
        var client = await session.ClientAsync();

        var idToCorpus = new System.Collections.Concurrent.ConcurrentDictionary<Guid, string>();
        var clock = Stopwatch.StartNew();
        var posting = new Progress("retrieval: posting documents", dataset.Corpus.Count);
        using (var gate = new SemaphoreSlim(8))
        {
            await Task.WhenAll(dataset.Corpus.Select(async d =>
            {
                await gate.WaitAsync();
                try
                {
                    var response = await client.PostAsJsonAsync("api/documents", new TextDocumentRequest(d.Title.Length > 0 ? d.Title : d.Id, d.Text, null, null));
                    response.EnsureSuccessStatusCode();
                    var accepted = (await response.Content.ReadFromJsonAsync<DocumentsAccepted>(Json))!;
                    idToCorpus[accepted.DocumentIds[0]] = d.Id;
                    posting.Report(idToCorpus.Count);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        var posted = clock.Elapsed;
        var ingesting = new Progress("retrieval: ingesting", dataset.Corpus.Count);
        while (true)
        {
            client = await session.ClientAsync();
            var pending = (await client.GetFromJsonAsync<PagedResult<DocumentSummary>>("api/documents?status=pending&pageSize=1", Json))!.Total;
            ingesting.Report(dataset.Corpus.Count - pending);
            if (pending == 0)
            {
                break;
            }

            await Task.Delay(1000);
        }

        var ingestSeconds = clock.Elapsed.TotalSeconds;
        var chunks = await CountChunksAsync(stack);
        var failed = (await client.GetFromJsonAsync<PagedResult<DocumentSummary>>("api/documents?status=failed&pageSize=1", Json))!.Total;
        var chunksPerSecond = chunks / ingestSeconds;
        Console.WriteLine($"retrieval: ingested {dataset.Corpus.Count} documents ({chunks} chunks, {failed} failed) in {ingestSeconds:F0}s (posting took {posted.TotalSeconds:F0}s)");

        var rows = new List<IReadOnlyList<string>>();
        var results = new List<object>();
        var queries = dataset.Qrels.Keys.Take(maxQueries).ToList();
        foreach (var mode in new[] { SearchModes.Dense, SearchModes.Keyword, SearchModes.Hybrid })
        {
            double ndcg = 0, r10 = 0, r100 = 0, mrr = 0;
            var latencies = new List<double>();
            foreach (var queryId in queries)
            {
                client = await session.ClientAsync();
                var watch = Stopwatch.StartNew();
                var response = await client.PostAsJsonAsync("api/search", new SearchRequest(dataset.Queries[queryId], mode, 100));
                response.EnsureSuccessStatusCode();
                var found = (await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!;
                latencies.Add(watch.Elapsed.TotalMilliseconds);
                var ranked = found.Hits.Select(h => idToCorpus.GetValueOrDefault(h.DocumentId, "?")).Distinct().ToList();
                var relevant = dataset.Qrels[queryId];
                ndcg += RetrievalMetrics.NdcgAt(ranked, relevant, 10);
                r10 += RetrievalMetrics.RecallAt(ranked, relevant, 10);
                r100 += RetrievalMetrics.RecallAt(ranked, relevant, 100);
                mrr += RetrievalMetrics.MrrAt(ranked, relevant, 10);
            }

            var n = queries.Count;
            latencies.Sort();
            var p50 = latencies[latencies.Count / 2];
            rows.Add([mode, F(ndcg / n), F(r10 / n), F(r100 / n), F(mrr / n), p50.ToString("F1", CultureInfo.InvariantCulture)]);
            results.Add(new { Mode = mode, Queries = n, NdcgAt10 = ndcg / n, RecallAt10 = r10 / n, RecallAt100 = r100 / n, MrrAt10 = mrr / n, P50Milliseconds = p50 });
        }

        var ratio = chunksPerSecond / raw;
        rows.Add(["ingestion", $"{chunksPerSecond:F1} chunks/s", $"raw {raw:F1}/s", !reused ? $"ratio {ratio:F2}" : "ratio n/a (--data reused: cache warm)",
            $"{dataset.Corpus.Count / ingestSeconds:F1} docs/s", $"{failed} failed"]);
        return new BenchmarkReport("retrieval",
            $"{Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(queriesPath)))}: {dataset.Corpus.Count} documents, {queries.Count} queries, local MiniLM, Postgres vector index, {Environment.ProcessorCount} cores",
            ["mode", "nDCG@10", "Recall@10", "Recall@100", "MRR@10", "p50 ms"],
            rows,
            new
            {
                Corpus = corpusPath, Queries = queriesPath, Qrels = qrelsPath,
                Documents = dataset.Corpus.Count, Chunks = chunks, FailedDocuments = failed,
                IngestSeconds = ingestSeconds, ChunksPerSecond = chunksPerSecond, RawEmbeddingTextsPerSecond = raw, IngestionToRawRatio = ratio,
                Results = results
            });
    }

    private static string F(double value) => value.ToString("F3", CultureInfo.InvariantCulture);

    private static async Task<double> RawEmbeddingThroughputAsync(IReadOnlyList<string> texts)
    {
        using var generator = new LocalMiniLmEmbeddingGenerator();
        await generator.GenerateAsync(texts.Take(32).ToList()); // warm-up: model load and JIT
        var clock = Stopwatch.StartNew();
        foreach (var batch in texts.Chunk(64))
        {
            await generator.GenerateAsync(batch);
        }

        return texts.Count / clock.Elapsed.TotalSeconds;
    }

    private static async Task<long> CountChunksAsync(SecondBrainStack stack)
    {
        await using var connection = new Npgsql.NpgsqlConnection(stack.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM chunks", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static HttpClient Client(Uri api, string accessToken)
    {
        var client = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }
}
