using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.Benchmarks.Reporting;
using SecondBrain.ServiceDefaults.Telemetry;
using StackExchange.Redis;

namespace SecondBrain.Benchmarks.Startup;

/// <summary>
/// Time from start to healthy, and idle memory per instance, for the whole stack in local mode (fresh data
/// directory each run, so initdb and the first migration are included). These idle figures are the baseline later
/// memory benchmarks compare with.
/// </summary>
public static class StartupBenchmark
{
    private sealed record RunResult(int Run, TimeSpan InfrastructureReady, TimeSpan StackHealthy, IReadOnlyList<InstanceHeartbeat> IdleInstances);

    public static async Task<BenchmarkReport> RunAsync(BenchmarkArguments arguments)
    {
        var results = new List<RunResult>();
        for (var run = 1; run <= arguments.Runs; run++)
        {
            Console.WriteLine($"startup: run {run}/{arguments.Runs}...");
            results.Add(await MeasureAsync(run, arguments.IdleSeconds));
        }

        var rows = new List<IReadOnlyList<string>>();
        foreach (var r in results)
        {
            foreach (var i in r.IdleInstances)
            {
                rows.Add([r.Run.ToString(), i.Service, BenchmarkReport.Seconds(r.InfrastructureReady), BenchmarkReport.Seconds(r.StackHealthy),
                    BenchmarkReport.Mb(i.Memory.WorkingSetBytes), BenchmarkReport.Mb(i.Memory.GcHeapSizeBytes), i.Memory.ThreadPoolQueueLength.ToString()]);
            }
        }

        var summary = results.SelectMany(r => r.IdleInstances).GroupBy(i => i.Service).Select(g => new
        {
            Service = g.Key,
            MedianWorkingSetBytes = Median(g.Select(i => (double)i.Memory.WorkingSetBytes)),
            MedianGcHeapBytes = Median(g.Select(i => (double)i.Memory.GcHeapSizeBytes))
        }).ToList();
        foreach (var s in summary)
        {
            rows.Add(["median", s.Service, BenchmarkReport.Seconds(TimeSpan.FromSeconds(Median(results.Select(r => r.InfrastructureReady.TotalSeconds)))),
                BenchmarkReport.Seconds(TimeSpan.FromSeconds(Median(results.Select(r => r.StackHealthy.TotalSeconds)))),
                BenchmarkReport.Mb(s.MedianWorkingSetBytes), BenchmarkReport.Mb(s.MedianGcHeapBytes), "-"]);
        }

        return new BenchmarkReport(
            "startup",
            $"start to healthy and idle memory after {arguments.IdleSeconds}s, local mode, 2 Api + 1 Worker, {arguments.Runs} run(s)",
            ["run", "service", "infra ready (s)", "all healthy (s)", "working set (MB)", "GC heap (MB)", "pool queue"],
            rows,
            new
            {
                Runs = results.Select(r => new
                {
                    r.Run,
                    InfrastructureReadySeconds = r.InfrastructureReady.TotalSeconds,
                    StackHealthySeconds = r.StackHealthy.TotalSeconds,
                    Instances = r.IdleInstances.Select(i => new { i.Service, i.InstanceId, i.Memory })
                }),
                Summary = summary
            });
    }

    private static async Task<RunResult> MeasureAsync(int run, int idleSeconds)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "secondbrain-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.SecondBrain_AppHost>(
            [
                "--Infra", "local", "--ApiReplicas", "2", "--WorkerReplicas", "1", "--DataDirectory", dataDirectory,
                "--Parameters:postgres-password", "bench-" + Guid.NewGuid().ToString("N"),
                "--Parameters:jwt-signing-key", "bench-signing-key-" + Guid.NewGuid().ToString("N")
            ],
            (options, _) => options.DisableDashboard = true,
            timeout.Token);
        builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Aspire.Hosting", LogLevel.Error)
            .AddFilter("SecondBrain.AppHost.Resources", LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));

        await using var app = await builder.BuildAsync(timeout.Token);
        var clock = Stopwatch.StartNew();
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("redis", timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("postgres", timeout.Token);
        var infrastructureReady = clock.Elapsed;

        using var redis = await ConnectionMultiplexer.ConnectAsync((await app.GetConnectionStringAsync("redis", timeout.Token))!);
        var directory = new InstanceDirectory(redis, Options.Create(new InstanceTelemetryOptions()));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            IReadOnlyList<InstanceHeartbeat> live = await directory.ListAsync(timeout.Token);
            live = live.Where(i => i.Addresses.Count > 0).ToList();
            if (live.Count(i => i.Service == "api") >= 2 && live.Count(i => i.Service == "worker") >= 1
                && await AllHealthyAsync(http, live, timeout.Token))
            {
                break;
            }

            await Task.Delay(100, timeout.Token);
        }

        var healthy = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds), timeout.Token);
        // Wait for one fresh heartbeat after the idle period.
        await Task.Delay(TimeSpan.FromSeconds(4), timeout.Token);
        var idle = await directory.ListAsync(timeout.Token);

        await app.StopAsync(CancellationToken.None);
        TryDelete(dataDirectory);
        return new RunResult(run, infrastructureReady, healthy, idle);
    }

    private static async Task<bool> AllHealthyAsync(HttpClient http, IEnumerable<InstanceHeartbeat> instances, CancellationToken ct)
    {
        foreach (var instance in instances)
        {
            try
            {
                using var response = await http.GetAsync(instance.Addresses[0].TrimEnd('/') + "/health", ct);
                if (!response.IsSuccessStatusCode)
                {
                    return false;
                }
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }

        return true;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
