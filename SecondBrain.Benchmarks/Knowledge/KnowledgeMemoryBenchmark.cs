using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using SecondBrain.Benchmarks.Reporting;
using SecondBrain.Benchmarks.Stack;

namespace SecondBrain.Benchmarks.Knowledge;

/// <summary>
/// Memory of one Worker that ingests, extracts and analyses tenant after tenant: the old service kept every
/// tenant's graph in process, so its heap grew with each; here the Worker's GC heap after each tenant should stay
/// flat. Each tenant imports the test corpus (mail archive, Slack export, documents) and, with <c>--enron</c>, the
/// Enron maildir sample from the shared datasets; then one analysis runs to the end. The heap is the Worker's reported GC heap
/// after the last collection, the lowest of several heartbeats once it is idle (a single reading includes whatever
/// garbage the last collection left).
/// </summary>
public static class KnowledgeMemoryBenchmark
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<BenchmarkReport> RunAsync(BenchmarkArguments arguments)
    {
        var tenants = arguments.Options.TryGetValue("tenants", out var t) ? int.Parse(t, CultureInfo.InvariantCulture) : 10;
        var corpus = LocateCorpus();
        var datasets = Environment.GetEnvironmentVariable("SECONDBRAIN_DATASETS") ?? Path.GetFullPath("../shared/datasets");
        var enron = Path.Combine(datasets, "enron-maildir-sample");
        var mail = Zip(Path.Combine(corpus, "mail"));
        var slack = Zip(Path.Combine(corpus, "slack"));
        // --enron adds the 300-message Enron sample to every tenant (needs the shared datasets; embedding it takes minutes per tenant on 2 cores).
        var enronZip = arguments.Options.ContainsKey("enron") && Directory.Exists(enron) ? Zip(enron) : null;
        var documents = Directory.GetFiles(Path.Combine(corpus, "documents"));
        Console.WriteLine($"knowledge-memory: {tenants} tenants, corpus {corpus}{(enronZip is null ? "" : " + Enron sample")}");

        await using var stack = await SecondBrainStack.StartAsync(1, 1, new Dictionary<string, string>
        {
            ["Knowledge:Analysis:AnalyzeWhenSettled"] = "false" // runs are started explicitly here, one per tenant
        });
        var rows = new List<IReadOnlyList<string>>();
        var data = new List<object>();
        var baseline = await IdleWorkerHeapAsync(stack);
        rows.Add(["0", "-", "-", "-", "-", BenchmarkReport.Mb(baseline.Heap), BenchmarkReport.Mb(baseline.WorkingSet)]);
        data.Add(new { Tenants = 0, HeapBytes = baseline.Heap, WorkingSetBytes = baseline.WorkingSet });

        for (var tenant = 1; tenant <= tenants; tenant++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var session = await BenchmarkSession.SignupAsync(stack.ApiAddresses[0]);
            var client = await session.ClientAsync();
            // One run per source at a time (a second e-mail import waits for the first).
            var imports = new List<(string Source, string Name, byte[] Zip)> { ("email-archive", "mail.zip", mail), ("slack-export", "slack.zip", slack) };
            if (enronZip is not null)
            {
                imports.Add(("email-archive", "enron.zip", enronZip));
            }

            foreach (var (source, name, zip) in imports)
            {
                var run = await ImportAsync(await session.ClientAsync(), source, name, zip);
                await WaitAsync(session, $"api/sync/runs/{run}", s => s.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled");
            }

            using (var form = new MultipartFormDataContent())
            {
                foreach (var file in documents)
                {
                    form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(file)), "files", Path.GetFileName(file));
                }

                (await client.PostAsync("api/documents", form)).EnsureSuccessStatusCode();
            }

            await WaitAsync(session, "api/documents?status=pending&pageSize=1", s => s.GetProperty("total").GetInt32() == 0);
            await WaitAsync(session, "api/knowledge/stats", s => s.GetProperty("documentsQueued").GetInt32() == 0);
            client = await session.ClientAsync();
            var started = await client.PostAsync("api/knowledge/analyze", null);
            started.EnsureSuccessStatusCode();
            var runId = (await started.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("id").GetGuid();
            var final = await WaitAsync(session, $"api/knowledge/analyze/runs/{runId}", s => s.GetProperty("status").GetString() is "succeeded" or "failed");
            var stats = await (await session.ClientAsync()).GetFromJsonAsync<JsonElement>("api/knowledge/stats", Json);
            var seconds = clock.Elapsed.TotalSeconds;

            var (heap, workingSet) = await IdleWorkerHeapAsync(stack);
            var entities = stats.GetProperty("entities").GetInt32();
            var gaps = stats.GetProperty("openGaps").GetInt32();
            var extracted = stats.GetProperty("documentsExtracted").GetInt32();
            rows.Add([tenant.ToString(CultureInfo.InvariantCulture), extracted.ToString(CultureInfo.InvariantCulture), entities.ToString(CultureInfo.InvariantCulture),
                gaps.ToString(CultureInfo.InvariantCulture), $"{seconds:F0}s ({final.GetProperty("status").GetString()})", BenchmarkReport.Mb(heap), BenchmarkReport.Mb(workingSet)]);
            data.Add(new { Tenants = tenant, Documents = extracted, Entities = entities, Gaps = gaps, Seconds = seconds, HeapBytes = heap, WorkingSetBytes = workingSet });
            Console.WriteLine($"knowledge-memory: tenant {tenant}: {extracted} documents, {entities} entities, {gaps} gaps, heap {BenchmarkReport.Mb(heap)}");
        }

        return new BenchmarkReport("knowledge-memory",
            $"one Worker ingesting, extracting and analysing {tenants} tenants one after another, local mode, {Environment.ProcessorCount} cores",
            ["tenants done", "documents", "entities", "gaps", "time", "worker GC heap", "worker working set"], rows, new { Results = data });
    }

    private static async Task<(long Heap, long WorkingSet)> IdleWorkerHeapAsync(SecondBrainStack stack)
    {
        long heap = long.MaxValue, workingSet = 0;
        for (var sample = 0; sample < 6; sample++)
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            var worker = (await stack.Instances.ListAsync()).First(i => i.Service.Contains("worker", StringComparison.OrdinalIgnoreCase));
            heap = Math.Min(heap, worker.Memory.GcHeapSizeBytes);
            workingSet = worker.Memory.WorkingSetBytes;
        }

        return (heap, workingSet);
    }

    private static async Task<Guid> ImportAsync(HttpClient client, string source, string fileName, byte[] zip)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(zip);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        form.Add(file, "file", fileName);
        var response = await client.PostAsync($"api/sync/{source}", form);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("id").GetGuid();
    }

    private static async Task<JsonElement> WaitAsync(BenchmarkSession session, string path, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow.AddMinutes(30);
        while (true)
        {
            var client = await session.ClientAsync();
            var state = await client.GetFromJsonAsync<JsonElement>(path, Json);
            if (done(state))
            {
                return state;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{path} did not settle: {state}");
            }

            await Task.Delay(500);
        }
    }

    private static byte[] Zip(string folder)
    {
        using var stream = new MemoryStream();
        ZipFile.CreateFromDirectory(folder, stream);
        return stream.ToArray();
    }

    private static string LocateCorpus()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "SecondBrain.Tests", "Knowledge", "Corpus");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("SecondBrain.Tests/Knowledge/Corpus not found above " + AppContext.BaseDirectory);
    }
}
