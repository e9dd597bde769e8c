using SecondBrain.Benchmarks.Reporting;
using SecondBrain.Benchmarks.Stack;
using SecondBrain.ServiceDefaults.Telemetry;

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
        await using var stack = await SecondBrainStack.StartAsync(apiReplicas: 2, workerReplicas: 1);
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
        // Wait for one fresh heartbeat after the idle period.
        await Task.Delay(TimeSpan.FromSeconds(4));
        var idle = await stack.Instances.ListAsync();
        return new RunResult(run, stack.InfrastructureReady, stack.Healthy, idle);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
