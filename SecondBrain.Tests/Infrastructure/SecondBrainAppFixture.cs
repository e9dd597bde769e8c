using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.ServiceDefaults.Telemetry;
using StackExchange.Redis;

namespace SecondBrain.Tests.Infrastructure;

/// <summary>One replica's own address, so a test decides which instance serves each request.</summary>
public sealed record Replica(string InstanceId, Uri BaseAddress)
{
    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public override string ToString() => InstanceId;
}

/// <summary>
/// Starts the real AppHost once per test run in local mode (redis-server and postgres as executables, a fresh data
/// directory) with several Api and Worker replicas, and finds each replica's own endpoint through the instance
/// heartbeats in Redis.
/// </summary>
public sealed class SecondBrainAppFixture : IAsyncLifetime
{
    public const int ApiReplicaCount = 3;
    public const int WorkerReplicaCount = 2;

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "secondbrain-tests", Guid.NewGuid().ToString("N"));

    public DistributedApplication App { get; private set; } = null!;
    public IReadOnlyList<Replica> ApiReplicas { get; private set; } = [];
    public IReadOnlyList<Replica> WorkerReplicas { get; private set; } = [];
    public string DatabaseConnectionString { get; private set; } = "";
    public IConnectionMultiplexer Redis { get; private set; } = null!;
    public InstanceDirectory Instances { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDirectory);
        using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(4));

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.SecondBrain_AppHost>(
            [
                "--Infra", "local",
                "--ApiReplicas", ApiReplicaCount.ToString(),
                "--WorkerReplicas", WorkerReplicaCount.ToString(),
                "--DataDirectory", _dataDirectory,
                "--Parameters:postgres-password", "test-" + Guid.NewGuid().ToString("N"),
                "--Parameters:jwt-signing-key", "test-signing-key-" + Guid.NewGuid().ToString("N")
            ],
            (options, _) => options.DisableDashboard = true,
            startup.Token);
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Aspire.Hosting", LogLevel.Error)
            .AddFilter("SecondBrain.AppHost.Resources", LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));

        App = await builder.BuildAsync(startup.Token);
        await App.StartAsync(startup.Token);

        await App.ResourceNotifications.WaitForResourceHealthyAsync("redis", startup.Token);
        await App.ResourceNotifications.WaitForResourceHealthyAsync("postgres", startup.Token);

        var redisConnection = await App.GetConnectionStringAsync("redis", startup.Token)
            ?? throw new InvalidOperationException("The AppHost exposes no redis connection string.");
        DatabaseConnectionString = await App.GetConnectionStringAsync("postgres", startup.Token)
            ?? throw new InvalidOperationException("The AppHost exposes no postgres connection string.");
        Redis = await ConnectionMultiplexer.ConnectAsync(redisConnection);
        Instances = new InstanceDirectory(Redis, Options.Create(new InstanceTelemetryOptions()));

        await WaitForReplicasAsync(startup.Token);
    }

    private async Task WaitForReplicasAsync(CancellationToken cancellationToken)
    {
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            var live = await Instances.ListAsync(cancellationToken);
            var api = ToReplicas(live, "api");
            var workers = ToReplicas(live, "worker");
            if (api.Count >= ApiReplicaCount && workers.Count >= WorkerReplicaCount
                && await AllHealthyAsync(probe, api.Concat(workers), cancellationToken))
            {
                ApiReplicas = api;
                WorkerReplicas = workers;
                return;
            }

            await Task.Delay(500, cancellationToken);
        }
    }

    private static List<Replica> ToReplicas(IEnumerable<InstanceHeartbeat> instances, string service) =>
        instances.Where(i => i.Service == service && i.Addresses.Count > 0)
            .Select(i => new Replica(i.InstanceId, new Uri(i.Addresses[0].Replace("://+", "://localhost", StringComparison.Ordinal).TrimEnd('/') + "/")))
            .ToList();

    private static async Task<bool> AllHealthyAsync(HttpClient probe, IEnumerable<Replica> replicas, CancellationToken cancellationToken)
    {
        foreach (var replica in replicas)
        {
            try
            {
                using var response = await probe.GetAsync(new Uri(replica.BaseAddress, "health"), cancellationToken);
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

    public Replica Api(int index) => ApiReplicas[index % ApiReplicas.Count];

    public async Task DisposeAsync()
    {
        Redis?.Dispose();
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }

        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A server may still be flushing; the temp directory is cleaned by the OS eventually.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SecondBrainAppCollection : ICollectionFixture<SecondBrainAppFixture>
{
    public const string Name = "SecondBrain app (local mode, several replicas)";
}
