using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.ServiceDefaults.Telemetry;
using StackExchange.Redis;

namespace SecondBrain.Benchmarks.Stack;

/// <summary>The real AppHost in local mode with a fresh data directory, and the address of every replica.</summary>
public sealed class BenchmarkStack : IAsyncDisposable
{
    private readonly string? _dataDirectory;

    private BenchmarkStack(DistributedApplication app, string? dataDirectory, IConnectionMultiplexer redis, InstanceDirectory instances, string databaseConnectionString)
    {
        App = app;
        _dataDirectory = dataDirectory;
        Redis = redis;
        Instances = instances;
        DatabaseConnectionString = databaseConnectionString;
    }

    public DistributedApplication App { get; }
    public IConnectionMultiplexer Redis { get; }
    public InstanceDirectory Instances { get; }
    public string DatabaseConnectionString { get; }
    public IReadOnlyList<Uri> Api { get; private set; } = [];
    public IReadOnlyList<Uri> Workers { get; private set; } = [];
    public TimeSpan InfrastructureReady { get; private set; }
    public TimeSpan Healthy { get; private set; }

    /// <param name="keptDataDirectory">
    /// A data directory to reuse and keep (Postgres and Redis files), e.g. so a second retrieval run finds the
    /// embedding cache warm; null for a fresh directory deleted at the end.
    /// </param>
    public static async Task<BenchmarkStack> StartAsync(int apiReplicas, int workerReplicas, IReadOnlyDictionary<string, string>? settings = null, string? keptDataDirectory = null)
    {
        var dataDirectory = keptDataDirectory is null
            ? Path.Combine(Path.GetTempPath(), "secondbrain-bench", Guid.NewGuid().ToString("N"))
            : Path.GetFullPath(keptDataDirectory);
        Directory.CreateDirectory(dataDirectory);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var args = new List<string>
        {
            "--Infra", "local", "--ApiReplicas", apiReplicas.ToString(), "--WorkerReplicas", workerReplicas.ToString(),
            "--DataDirectory", dataDirectory,
            // A kept database was initialised with the password of its first run, so that one is fixed.
            "--Parameters:postgres-password", keptDataDirectory is null ? "bench-" + Guid.NewGuid().ToString("N") : "bench-kept-data",
            "--Parameters:jwt-signing-key", "bench-signing-key-" + Guid.NewGuid().ToString("N")
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            args.Add($"--{key}");
            args.Add(value);
        }

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.SecondBrain_AppHost>(
            args.ToArray(), (options, _) => options.DisableDashboard = true, timeout.Token);
        builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Aspire.Hosting", LogLevel.Error)
            .AddFilter("SecondBrain.AppHost.Resources", LogLevel.None)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));

        var app = await builder.BuildAsync(timeout.Token);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("redis", timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("postgres", timeout.Token);
        var infrastructureReady = clock.Elapsed;

        var redis = await ConnectionMultiplexer.ConnectAsync((await app.GetConnectionStringAsync("redis", timeout.Token))! + ",allowAdmin=true");
        var instances = new InstanceDirectory(redis, Options.Create(new InstanceTelemetryOptions()));
        var stack = new BenchmarkStack(app, keptDataDirectory is null ? dataDirectory : null, redis, instances, (await app.GetConnectionStringAsync("postgres", timeout.Token))!)
        {
            InfrastructureReady = infrastructureReady
        };

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            var live = (await instances.ListAsync(timeout.Token)).Where(i => i.Addresses.Count > 0).ToList();
            var api = live.Where(i => i.Service == "api").Select(i => new Uri(i.Addresses[0].TrimEnd('/') + "/")).ToList();
            var workers = live.Where(i => i.Service == "worker").Select(i => new Uri(i.Addresses[0].TrimEnd('/') + "/")).ToList();
            if (api.Count >= apiReplicas && workers.Count >= workerReplicas && await AllHealthyAsync(http, api.Concat(workers), timeout.Token))
            {
                stack.Api = api;
                stack.Workers = workers;
                stack.Healthy = clock.Elapsed;
                return stack;
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    private static async Task<bool> AllHealthyAsync(HttpClient http, IEnumerable<Uri> replicas, CancellationToken ct)
    {
        foreach (var replica in replicas)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(replica, "health"), ct);
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

    /// <summary>Commands Redis has processed so far (INFO stats), to count round trips of a workload.</summary>
    public async Task<long> RedisCommandsProcessedAsync()
    {
        var server = Redis.GetServers()[0];
        var info = await server.InfoAsync("stats");
        var value = info.SelectMany(g => g).First(p => p.Key == "total_commands_processed").Value;
        return long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        Redis.Dispose();
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
        if (_dataDirectory is null)
        {
            return;
        }

        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
