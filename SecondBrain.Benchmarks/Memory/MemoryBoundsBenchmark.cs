using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using SecondBrain.Benchmarks.Reporting;
using SecondBrain.Benchmarks.Stack;
using SecondBrain.TestSupport.BadInputs;

namespace SecondBrain.Benchmarks.Memory;

/// <summary>
/// What bad or large input costs each service in memory: one Api and one Worker take a 200 MB mbox import, a zip bomb
/// inflating to 1 GB (as an e-mail archive and as a Slack export), a docx whose body inflates to 200 million
/// characters and an honest 50 MB docx, one after another. For each, the peak resident memory of each process above
/// its resident memory just before (VmHWM after a reset, from /proc), how the input ended (every bad input must end
/// as a failed item or document with a reason), and the targets: Api at most +64 MB, Worker at most +256 MB. Inputs
/// are generated under the temp directory and streamed from disk, so the benchmark itself holds none of them.
/// </summary>
public static class MemoryBoundsBenchmark
{
    private const double ApiTargetMb = 64;
    private const double WorkerTargetMb = 256;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private sealed record Outcome(bool AsExpected, string Text);

    private sealed record Scenario(string Name, string File, Func<BenchmarkSession, string, Task<Outcome>> Run);

    public static async Task<BenchmarkReport> RunAsync(BenchmarkArguments arguments)
    {
        var mboxMb = arguments.Options.TryGetValue("mbox-mb", out var m) ? int.Parse(m, CultureInfo.InvariantCulture) : 200;
        var textMessages = arguments.Options.TryGetValue("text-messages", out var t) ? int.Parse(t, CultureInfo.InvariantCulture) : 500;
        var bombGb = arguments.Options.TryGetValue("bomb-gb", out var b) ? double.Parse(b, CultureInfo.InvariantCulture) : 1;
        var directory = Path.Combine(Path.GetTempPath(), "secondbrain-memory-bounds");
        Directory.CreateDirectory(directory);

        Console.Error.WriteLine($"memory-bounds: generating inputs in {directory}");
        var mbox = Generate(directory, "archive.mbox", s => BadInputs.Mbox(s, mboxMb * 1024L * 1024, textMessages));
        var bombBytes = (long)(bombGb * 1024 * 1024 * 1024);
        var zipBomb = Generate(directory, "bomb.zip", s => BadInputs.ZipBomb(s, bombBytes, "archive.mbox",
            [("inbox/1.eml", System.Text.Encoding.UTF8.GetBytes(BadInputs.Message(1))), ("inbox/2.eml", System.Text.Encoding.UTF8.GetBytes(BadInputs.Message(2)))]));
        var slackBomb = Generate(directory, "slack-bomb.zip", s => BadInputs.SlackExportBomb(s, bombBytes));
        var docxBomb = Generate(directory, "bomb.docx", s => BadInputs.DocxBomb(s, 200_000_000));
        var docx = Generate(directory, "report.docx", s => BadInputs.LargeDocx(s, 50L * 1024 * 1024, 200));

        Scenario[] scenarios =
        [
            new($"{mboxMb} MB mbox import", mbox, (session, file) => ImportAsync(session, "email-archive", file, expectFailures: false)),
            new($"{bombGb:0.#} GB zip bomb (e-mail archive)", zipBomb, (session, file) => ImportAsync(session, "email-archive", file, expectFailures: true)),
            new($"{bombGb:0.#} GB zip bomb (Slack export)", slackBomb, (session, file) => ImportAsync(session, "slack-export", file, expectFailures: true)),
            new("docx inflating to 200M characters", docxBomb, (session, file) => DocumentAsync(session, file, expectFailed: true)),
            new("50 MB docx", docx, (session, file) => DocumentAsync(session, file, expectFailed: false))
        ];

        // --only mbox,docx: the scenarios whose names contain one of these words (to measure one input while tuning).
        if (arguments.Options.TryGetValue("only", out var only))
        {
            var words = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            scenarios = [.. scenarios.Where(s => words.Any(w => s.Name.Contains(w, StringComparison.OrdinalIgnoreCase)))];
        }

        Console.Error.WriteLine("memory-bounds: starting the stack (1 Api, 1 Worker, local mode)");
        await using var stack = await SecondBrainStack.StartAsync(1, 1);
        var api = new ProcessMemory(stack.ApiReplicas[0].ProcessId);
        var worker = new ProcessMemory(stack.WorkerReplicas[0].ProcessId);
        // Warm: one small document through upload, parsing and the embedding model, so "idle" is a service ready to
        // work (model loaded, pools filled) and each figure below is what the input itself costs.
        var warm = Path.Combine(directory, "warm-up.txt");
        await File.WriteAllTextAsync(warm, "Warm-up. The release train leaves every second Tuesday; Dana owns the checklist.");
        await DocumentAsync(await BenchmarkSession.SignupAsync(stack.ApiAddresses[0]), warm, expectFailed: false);
        await Task.Delay(TimeSpan.FromSeconds(arguments.IdleSeconds));
        var idle = (Api: api.ResidentBytes, Worker: worker.ResidentBytes);
        Console.Error.WriteLine($"memory-bounds: idle resident memory: Api {BenchmarkReport.Mb(idle.Api)} MB, Worker {BenchmarkReport.Mb(idle.Worker)} MB");

        var rows = new List<IReadOnlyList<string>>();
        var results = new List<object>();
        foreach (var scenario in scenarios)
        {
            var session = await BenchmarkSession.SignupAsync(stack.ApiAddresses[0]);
            await Task.Delay(TimeSpan.FromSeconds(3));
            var before = (Api: api.ResidentBytes, Worker: worker.ResidentBytes);
            var reset = api.ResetPeak() & worker.ResetPeak();
            Console.Error.WriteLine($"memory-bounds: {scenario.Name} ({BenchmarkReport.Mb(new FileInfo(scenario.File).Length)} MB file){(reset ? "" : "; peak reset refused, peaks are since start")}");
            var clock = Stopwatch.StartNew();
            var outcome = await scenario.Run(session, scenario.File);
            var peaks = (Api: api.PeakBytes - before.Api, Worker: worker.PeakBytes - before.Worker);
            var apiOk = peaks.Api <= ApiTargetMb * 1024 * 1024;
            var workerOk = peaks.Worker <= WorkerTargetMb * 1024 * 1024;
            Console.Error.WriteLine($"memory-bounds: {scenario.Name}: {outcome.Text}; Api +{BenchmarkReport.Mb(peaks.Api)} MB, Worker +{BenchmarkReport.Mb(peaks.Worker)} MB in {clock.Elapsed.TotalSeconds:F0} s");
            rows.Add([scenario.Name, outcome.Text, $"+{BenchmarkReport.Mb(peaks.Api)}{(apiOk ? "" : " (over)")}",
                $"+{BenchmarkReport.Mb(peaks.Worker)}{(workerOk ? "" : " (over)")}", $"{clock.Elapsed.TotalSeconds:F0} s", outcome.AsExpected && apiOk && workerOk ? "yes" : "no"]);
            results.Add(new
            {
                Scenario = scenario.Name, FileBytes = new FileInfo(scenario.File).Length, Outcome = outcome.Text, outcome.AsExpected,
                ApiBeforeBytes = before.Api, WorkerBeforeBytes = before.Worker, ApiPeakAboveBytes = peaks.Api, WorkerPeakAboveBytes = peaks.Worker,
                Seconds = clock.Elapsed.TotalSeconds, PeakReset = reset
            });
        }

        foreach (var file in Directory.GetFiles(directory))
        {
            File.Delete(file);
        }

        return new BenchmarkReport("memory-bounds",
            $"peak resident memory above the level before each input (VmHWM), 1 Api + 1 Worker, local mode, {Environment.ProcessorCount} cores; targets Api <= +{ApiTargetMb} MB, Worker <= +{WorkerTargetMb} MB",
            ["input", "outcome", "Api MB", "Worker MB", "time", "within targets"], rows,
            new { IdleApiBytes = idle.Api, IdleWorkerBytes = idle.Worker, ApiTargetMb, WorkerTargetMb, Results = results });
    }

    private static string Generate(string directory, string name, Action<Stream> write)
    {
        var path = Path.Combine(directory, name);
        using (var file = File.Create(path))
        {
            write(file);
        }

        Console.Error.WriteLine($"memory-bounds: {name}: {BenchmarkReport.Mb(new FileInfo(path).Length)} MB");
        return path;
    }

    /// <summary>Streams the file to the import endpoint, waits for the run, then for its documents' ingestion.</summary>
    private static async Task<Outcome> ImportAsync(BenchmarkSession session, string source, string file, bool expectFailures)
    {
        Guid runId;
        await using (var stream = File.OpenRead(file))
        using (var form = new MultipartFormDataContent())
        {
            var content = new StreamContent(stream, 1 << 16);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(content, "file", Path.GetFileName(file));
            var response = await (await session.ClientAsync()).PostAsync($"api/sync/{source}", form);
            response.EnsureSuccessStatusCode();
            runId = (await response.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("id").GetGuid();
        }

        var progress = new Progress($"{source} run", 0);
        var run = await WaitAsync(session, $"api/sync/runs/{runId}", s =>
        {
            progress.Total = s.TryGetProperty("estimatedTotal", out var total) && total.ValueKind == JsonValueKind.Number ? total.GetInt64() : 0;
            progress.Report(s.GetProperty("processed").GetInt64() + s.GetProperty("failed").GetInt64(), s.GetProperty("stage").ToString());
            return s.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled";
        });
        var status = run.GetProperty("status").GetString();
        var (processed, failed) = (run.GetProperty("processed").GetInt64(), run.GetProperty("failed").GetInt64());
        var reason = failed > 0
            ? (await (await session.ClientAsync()).GetFromJsonAsync<JsonElement>($"api/sync/runs/{runId}/failures?pageSize=1", Json)).GetProperty("items")[0].GetProperty("reason").GetString()
            : run.GetProperty("errorDetail").ToString();

        var ingestion = new Progress("ingestion", processed);
        var pending = await WaitAsync(session, $"api/documents?status=pending&pageSize=1", s =>
        {
            var left = s.GetProperty("total").GetInt64();
            ingestion.Report(processed - left);
            return left == 0;
        });
        var text = $"run {status}: {processed} documents, {failed} failed{(string.IsNullOrEmpty(reason) ? "" : $" (\"{Shorten(reason, 90)}\")")}";
        var asExpected = status == "succeeded" && (expectFailures ? failed > 0 && !string.IsNullOrEmpty(reason) : failed == 0) && pending.GetProperty("total").GetInt64() == 0;
        return new Outcome(asExpected, text);
    }

    /// <summary>Streams the file to POST /api/documents and waits until the document is ingested or failed.</summary>
    private static async Task<Outcome> DocumentAsync(BenchmarkSession session, string file, bool expectFailed)
    {
        Guid id;
        await using (var stream = File.OpenRead(file))
        using (var form = new MultipartFormDataContent())
        {
            var content = new StreamContent(stream, 1 << 16);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.openxmlformats-officedocument.wordprocessingml.document");
            form.Add(content, "files", Path.GetFileName(file));
            var response = await (await session.ClientAsync()).PostAsync("api/documents", form);
            response.EnsureSuccessStatusCode();
            id = (await response.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("documentIds")[0].GetGuid();
        }

        var document = (await WaitAsync(session, $"api/documents/{id}", s => s.GetProperty("document").GetProperty("status").GetString() != "pending"));
        var status = document.GetProperty("document").GetProperty("status").GetString();
        var reason = document.GetProperty("document").GetProperty("failureReason").ToString();
        var chunks = document.GetProperty("chunkCount").GetInt32();
        var text = status == "failed" ? $"document failed (\"{Shorten(reason, 90)}\")" : $"document {status}: {chunks} chunks";
        return new Outcome(expectFailed ? status == "failed" && reason.Length > 0 : status == "ingested", text);
    }

    private static async Task<JsonElement> WaitAsync(BenchmarkSession session, string path, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow.AddMinutes(45);
        while (true)
        {
            var state = await (await session.ClientAsync()).GetFromJsonAsync<JsonElement>(path, Json);
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

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
