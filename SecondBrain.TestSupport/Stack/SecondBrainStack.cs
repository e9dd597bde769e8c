using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.ServiceDefaults.Telemetry;
using StackExchange.Redis;

namespace SecondBrain.TestSupport.Stack;

/// <summary>One replica's own address and process, so a caller decides which instance serves each request or dies.</summary>
/// <param name="ResourceName">The Aspire resource of this replica (e.g. <c>worker-abcd1234</c>), to start it again.</param>
public sealed record Replica(string Service, string InstanceId, string ResourceName, Uri BaseAddress, int ProcessId)
{
    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(100) };

    /// <summary>A client that, like a browser, shows redirects instead of following them.</summary>
    public HttpClient CreateBrowserClient() =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(100) };

    public override string ToString() => InstanceId;
}

public sealed record StackOptions
{
    public int ApiReplicas { get; init; } = 1;
    public int WorkerReplicas { get; init; } = 1;

    /// <summary>AppHost configuration passed as <c>--Key value</c> (the same settings a deployment uses).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>A data directory to reuse and keep (Postgres and Redis files); null for a fresh one deleted at the end.</summary>
    public string? KeptDataDirectory { get; init; }

    /// <summary>Where fresh data directories go (under the temp directory).</summary>
    public string Purpose { get; init; } = "secondbrain-tests";

    /// <summary>Adjusts the application model before it is built (e.g. an OTLP endpoint for every service).</summary>
    public Action<IDistributedApplicationTestingBuilder>? Configure { get; init; }

    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The real AppHost in local mode (redis-server and postgres as executables) started through Aspire.Hosting.Testing,
/// with every replica found through its heartbeat in Redis. Shared by the integration tests and the benchmarks, and
/// the one place that injects faults: kill or pause a replica, stop, kill and restart Redis or Postgres.
/// </summary>
public sealed class SecondBrainStack : IAsyncDisposable
{
    private readonly string? _ownedDataDirectory;
    private readonly int _apiReplicas;
    private readonly int _workerReplicas;

    private SecondBrainStack(DistributedApplication app, string dataDirectory, bool owned, int apiReplicas, int workerReplicas)
    {
        App = app;
        DataDirectory = dataDirectory;
        _ownedDataDirectory = owned ? dataDirectory : null;
        _apiReplicas = apiReplicas;
        _workerReplicas = workerReplicas;
    }

    /// <summary>The deployment-named operator the AppHost creates (fleet-wide endpoints), and its password in this stack.</summary>
    public const string OperatorEmail = "operator@secondbrain.local";

    public string OperatorPassword { get; private set; } = "";

    public DistributedApplication App { get; }
    public string DataDirectory { get; }
    public IConnectionMultiplexer Redis { get; private set; } = null!;
    public InstanceDirectory Instances { get; private set; } = null!;
    public string RedisConnectionString { get; private set; } = "";
    public string DatabaseConnectionString { get; private set; } = "";
    public IReadOnlyList<Replica> ApiReplicas { get; private set; } = [];
    public IReadOnlyList<Replica> WorkerReplicas { get; private set; } = [];
    public TimeSpan InfrastructureReady { get; private set; }
    public TimeSpan Healthy { get; private set; }

    public static async Task<SecondBrainStack> StartAsync(StackOptions options)
    {
        var owned = options.KeptDataDirectory is null;
        var operatorPassword = owned ? "operator-" + Guid.NewGuid().ToString("N") : "kept-data-operator-password";
        var dataDirectory = owned
            ? Path.Combine(Path.GetTempPath(), options.Purpose, Guid.NewGuid().ToString("N"))
            : Path.GetFullPath(options.KeptDataDirectory!);
        Directory.CreateDirectory(dataDirectory);
        using var timeout = new CancellationTokenSource(options.StartTimeout);

        var args = new List<string>
        {
            "--Infra", "local",
            "--ApiReplicas", options.ApiReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--WorkerReplicas", options.WorkerReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--DataDirectory", dataDirectory,
            // A kept database was initialised with the password of its first run, so that one is fixed.
            "--Parameters:postgres-password", owned ? "test-" + Guid.NewGuid().ToString("N") : "kept-data-password",
            "--Parameters:redis-password", owned ? "test-" + Guid.NewGuid().ToString("N") : "kept-data-password",
            "--Parameters:app-db-password", owned ? "test-" + Guid.NewGuid().ToString("N") : "kept-data-password",
            "--Parameters:dataprotection-key", owned ? "test-key-" + Guid.NewGuid().ToString("N") : "kept-data-key-encryption-key-0123456789",
            "--Parameters:jwt-signing-key", "test-signing-key-" + Guid.NewGuid().ToString("N"),
            "--Parameters:operator-password", operatorPassword
        };
        // All test traffic comes from one address: per-address and per-tenant limits are raised unless a test sets them.
        // Sign-up creates the tenant at once (no mailed confirmation) unless a test turns confirmation on.
        foreach (var (key, value) in new Dictionary<string, string>
                 {
                     ["RateLimits:Auth:PermitLimit"] = "1000000",
                     ["RateLimits:Tenant:PermitLimit"] = "1000000",
                     ["Identity:Signup:VerifyEmail"] = "false"
                 })
        {
            if (!options.Settings.ContainsKey(key))
            {
                args.Add($"--{key}");
                args.Add(value);
            }
        }

        foreach (var (key, value) in options.Settings)
        {
            args.Add($"--{key}");
            args.Add(value);
        }

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.SecondBrain_AppHost>(
            args.ToArray(), (o, _) => o.DisableDashboard = true, timeout.Token);
        // SECONDBRAIN_STACK_LOGS=1 shows what every resource writes (startup crashes, worker warnings).
        var resourceLogs = Environment.GetEnvironmentVariable("SECONDBRAIN_STACK_LOGS") is "1" or "true";
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Aspire.Hosting", LogLevel.Error)
            .AddFilter("SecondBrain.AppHost.Resources", resourceLogs ? LogLevel.Information : LogLevel.None)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            .AddSimpleConsole(o => o.SingleLine = true));
        options.Configure?.Invoke(builder);

        var app = await builder.BuildAsync(timeout.Token);
        var stack = new SecondBrainStack(app, dataDirectory, owned, options.ApiReplicas, options.WorkerReplicas) { OperatorPassword = operatorPassword };
        try
        {
            var clock = Stopwatch.StartNew();
            await app.StartAsync(timeout.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync("redis", timeout.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync("postgres", timeout.Token);
            stack.InfrastructureReady = clock.Elapsed;

            stack.RedisConnectionString = await app.GetConnectionStringAsync("redis", timeout.Token)
                ?? throw new InvalidOperationException("The AppHost exposes no redis connection string.");
            stack.DatabaseConnectionString = await app.GetConnectionStringAsync("postgres", timeout.Token)
                ?? throw new InvalidOperationException("The AppHost exposes no postgres connection string.");
            var redisOptions = ConfigurationOptions.Parse(stack.RedisConnectionString);
            redisOptions.AllowAdmin = true;
            redisOptions.AbortOnConnectFail = false;
            stack.Redis = await ConnectionMultiplexer.ConnectAsync(redisOptions);
            stack.Instances = new InstanceDirectory(stack.Redis, Options.Create(new InstanceTelemetryOptions()));
            await stack.WaitForReplicasAsync(options.ApiReplicas, options.WorkerReplicas, timeout.Token);
            stack.Healthy = clock.Elapsed;
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>The Api replicas' base addresses.</summary>
    public IReadOnlyList<Uri> ApiAddresses => ApiReplicas.Select(r => r.BaseAddress).ToList();

    /// <summary>A stack for a benchmark: fresh data under the temp directory unless <paramref name="keptDataDirectory"/> is given.</summary>
    public static Task<SecondBrainStack> StartAsync(int apiReplicas, int workerReplicas, IReadOnlyDictionary<string, string>? settings = null, string? keptDataDirectory = null) =>
        StartAsync(new StackOptions
        {
            ApiReplicas = apiReplicas,
            WorkerReplicas = workerReplicas,
            Settings = settings ?? new Dictionary<string, string>(),
            KeptDataDirectory = keptDataDirectory,
            Purpose = "secondbrain-bench"
        });

    public Replica Api(int index) => ApiReplicas[((index % ApiReplicas.Count) + ApiReplicas.Count) % ApiReplicas.Count];

    /// <summary>Waits until this many replicas of each service have a heartbeat and answer /health, and takes them.</summary>
    public async Task WaitForReplicasAsync(int apiReplicas, int workerReplicas, CancellationToken ct)
    {
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var seen = "no heartbeat yet";
        while (true)
        {
            if (ct.IsCancellationRequested)
            {
                var states = string.Join(", ", App.Services.GetRequiredService<DistributedApplicationModel>().Resources
                    .Select(r => App.ResourceNotifications.TryGetCurrentState(r.Name, out var e) ? $"{r.Name}={e.Snapshot.State?.Text}" : r.Name));
                throw new TimeoutException($"Waiting for {apiReplicas} Api and {workerReplicas} Worker replicas: {seen}. Resources: {states}. " +
                                           "Set SECONDBRAIN_STACK_LOGS=1 to see their output.");
            }

            IReadOnlyList<InstanceHeartbeat> live;
            try
            {
                live = await Instances.ListAsync(CancellationToken.None);
            }
            catch (RedisException)
            {
                await Task.Delay(500, CancellationToken.None);
                continue;
            }

            var api = ToReplicas(live, "api");
            var workers = ToReplicas(live, "worker");
            seen = $"{api.Count} Api and {workers.Count} Worker heartbeats";
            if (api.Count >= apiReplicas && workers.Count >= workerReplicas && await AllHealthyAsync(probe, api.Concat(workers), CancellationToken.None))
            {
                ApiReplicas = api;
                WorkerReplicas = workers;
                return;
            }

            await Task.Delay(250, CancellationToken.None);
        }
    }

    /// <summary>Re-reads the live replicas (after one was killed or started again).</summary>
    public async Task RefreshReplicasAsync(CancellationToken ct = default)
    {
        var live = await Instances.ListAsync(ct);
        ApiReplicas = ToReplicas(live, "api");
        WorkerReplicas = ToReplicas(live, "worker");
    }

    private static List<Replica> ToReplicas(IEnumerable<InstanceHeartbeat> instances, string service) =>
        instances.Where(i => i.Service == service && i.Addresses.Count > 0)
            .Select(i => new Replica(service, i.InstanceId, ResourceNameOf(i.InstanceId, service, i.ProcessId),
                new Uri(i.Addresses[0].Replace("://+", "://localhost", StringComparison.Ordinal).TrimEnd('/') + "/"), i.ProcessId))
            .OrderBy(r => r.InstanceId, StringComparer.Ordinal)
            .ToList();

    // An instance id is "{service}-{replica suffix}-{pid}" (InstanceIdentity), and Aspire names the replica's
    // resource "{service}-{replica suffix}": the id without its pid.
    private static string ResourceNameOf(string instanceId, string service, int processId)
    {
        var suffix = "-" + processId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return instanceId.EndsWith(suffix, StringComparison.Ordinal) ? instanceId[..^suffix.Length] : instanceId;
    }

    private static async Task<bool> AllHealthyAsync(HttpClient probe, IEnumerable<Replica> replicas, CancellationToken ct)
    {
        foreach (var replica in replicas)
        {
            try
            {
                using var response = await probe.GetAsync(new Uri(replica.BaseAddress, "health"), ct);
                if (!response.IsSuccessStatusCode)
                {
                    return false;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                return false;
            }
        }

        return true;
    }

    // ---- Faults: real processes, real signals --------------------------------------------------------------------

    /// <summary>SIGKILL: the process ends at once, leases and connections are left as they were.</summary>
    public static void Kill(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            process.Kill(entireProcessTree: false);
            process.WaitForExit(10_000);
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
    }

    /// <summary>SIGKILLs a replica and takes its heartbeat out of the directory, as its expiry would a little later.</summary>
    public async Task KillAsync(Replica replica)
    {
        Kill(replica.ProcessId);
        try
        {
            await Instances.RemoveAsync(replica.InstanceId);
        }
        catch (RedisException)
        {
            // Redis is down too; the heartbeat expires by itself.
        }
    }

    /// <summary>SIGSTOP: the process is frozen (no heartbeat, no lease renewal) with its sockets open.</summary>
    public static void Pause(int processId) => Signal(processId, Signals.Stop);

    /// <summary>SIGINT: for postgres, a fast shutdown (clients disconnected, the server stops cleanly).</summary>
    public static void Interrupt(int processId) => Signal(processId, Signals.Interrupt);

    /// <summary>SIGCONT: a paused process carries on where it stopped, unaware of the time it lost.</summary>
    public static void Resume(int processId) => Signal(processId, Signals.Continue);

    private static void Signal(int processId, int signal)
    {
        if (Signals.Send(processId, signal) != 0)
        {
            throw new InvalidOperationException($"Could not send signal {signal} to process {processId}.");
        }
    }

    /// <summary>The process id of an executable resource (redis, postgres, or a replica) as Aspire started it.</summary>
    public int? ProcessIdOf(string resourceName)
    {
        if (!App.ResourceNotifications.TryGetCurrentState(resourceName, out var state))
        {
            return null;
        }

        var pid = state.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value;
        return pid switch
        {
            int i => i,
            long l => (int)l,
            string s when int.TryParse(s, out var parsed) => parsed,
            _ => null
        };
    }

    /// <summary>Kills an infrastructure resource (redis or postgres) with SIGKILL, as a crash would.</summary>
    public async Task KillResourceAsync(string resourceName, CancellationToken ct = default)
    {
        var pid = ProcessIdOf(resourceName) ?? throw new InvalidOperationException($"Resource {resourceName} has no process.");
        Kill(pid);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await App.ResourceNotifications.WaitForResourceAsync(resourceName, s => s.Snapshot.State?.Text is "Exited" or "Finished" or "Stopped" or "FailedToStart", timeout.Token);
    }

    /// <summary>Stops a resource through Aspire (a clean shutdown: SIGTERM, then SIGKILL when it does not end).</summary>
    public async Task StopResourceAsync(string resourceName, CancellationToken ct = default)
    {
        var result = await App.ResourceCommands.ExecuteCommandAsync(resourceName, "resource-stop", ct);
        if (!result.Success)
        {
            throw new InvalidOperationException($"Could not stop {resourceName}: {result.Message}");
        }
    }

    /// <summary>
    /// Starts a stopped or killed resource again; for redis and postgres, waits until it is healthy. (A replica is
    /// ready when its heartbeat says so: <see cref="RestartReplicaAsync"/>.)
    /// </summary>
    public async Task StartResourceAsync(string resourceName, CancellationToken ct = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        var result = await App.ResourceCommands.ExecuteCommandAsync(resourceName, "resource-start", timeout.Token);
        if (!result.Success)
        {
            throw new InvalidOperationException($"Could not start {resourceName}: {result.Message}");
        }

        if (resourceName is "redis" or "postgres")
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(resourceName, timeout.Token);
        }
    }

    /// <summary>Starts a killed replica again (a new process of the same resource) and waits for its heartbeat.</summary>
    public async Task RestartReplicaAsync(Replica replica, CancellationToken ct = default)
    {
        await StartResourceAsync(replica.ResourceName, ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        await WaitForReplicasAsync(_apiReplicas, _workerReplicas, timeout.Token);
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
        Redis?.Dispose();
        try
        {
            await App.StopAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
        {
            // Never started, or already stopping.
        }

        await App.DisposeAsync();
        if (_ownedDataDirectory is null)
        {
            return;
        }

        try
        {
            Directory.Delete(_ownedDataDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A server may still be flushing; the temp directory is cleaned by the OS eventually.
        }
    }

    private static class Signals
    {
        // Linux signal numbers (x86_64 and arm64 agree on these).
        public const int Interrupt = 2;
        public const int Continue = 18;
        public const int Stop = 19;

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Send(int pid, int signal);
    }
}
