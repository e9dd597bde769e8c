using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace SecondBrain.AppHost.Infrastructure;

/// <summary>redis-server run as an executable, password required; exposes <c>host:port,password=...</c> like the Redis container does.</summary>
public sealed class LocalRedisResource(string name, string command, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public EndpointReference PrimaryEndpoint => new(this, "tcp");

    public ParameterResource Password { get; } = password;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)},password={Password}");
}

/// <summary>A postgres server run as an executable; its connection string names the SecondBrain database.</summary>
public sealed class LocalPostgresResource(string name, string command, string workingDirectory, ParameterResource password, string databaseName)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public EndpointReference PrimaryEndpoint => new(this, "tcp");

    public ParameterResource Password { get; } = password;

    public string DatabaseName { get; } = databaseName;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username=postgres;Password={Password};Database={DatabaseName}");
}

/// <summary>
/// Local mode: no container runtime, so redis-server and postgres from the machine's packages run as Aspire
/// executables, with data under <c>.data/</c> kept between runs.
/// </summary>
internal static class LocalInfrastructure
{
    private const string DatabaseName = SecondBrainInfrastructure.DatabaseName;

    public static SecondBrainInfrastructure AddLocalInfrastructure(this IDistributedApplicationBuilder builder, SecondBrainSecrets secrets, string dataDirectory)
    {
        var postgresPassword = secrets.PostgresPassword;
        var redisServer = LocalBinaries.Require("redis-server", "redis-server");
        var postgresBin = LocalBinaries.Require("postgres", "postgresql");
        var initdbBin = LocalBinaries.Require("initdb", "postgresql");
        var runAsPostgresUser = LocalBinaries.IsRoot;

        Directory.CreateDirectory(dataDirectory);
        var redisData = Directory.CreateDirectory(Path.Combine(dataDirectory, "redis")).FullName;
        var postgresData = Path.Combine(dataDirectory, "postgres");

        // The password goes in a config file only the owner can read (never on the command line, where ps shows it).
        var redisConfig = Path.Combine(redisData, "secondbrain.conf");
        var redis = builder.AddResource(new LocalRedisResource("redis", redisServer, redisData, secrets.RedisPassword.Resource))
            .WithEndpoint(name: "tcp", scheme: "tcp")
            .WithArgs(context =>
            {
                var endpoint = context.Resource is LocalRedisResource r ? r.PrimaryEndpoint : throw new InvalidOperationException();
                context.Args.Add(redisConfig);
                context.Args.Add("--port");
                context.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--bind");
                context.Args.Add("127.0.0.1");
                context.Args.Add("--dir");
                context.Args.Add(redisData);
                context.Args.Add("--save");
                context.Args.Add("60 1");
                context.Args.Add("--appendonly");
                context.Args.Add("no");
                context.Args.Add("--daemonize");
                context.Args.Add("no");
            });
        AddHealthCheck(builder, redis, "redis_local_check", (r, ct) => PingRedisAsync(r, ct));
        builder.Eventing.Subscribe<BeforeStartEvent>(async (_, ct) =>
        {
            var password = await secrets.RedisPassword.Resource.GetValueAsync(ct)
                ?? throw new InvalidOperationException("The redis-password parameter has no value.");
            await File.WriteAllTextAsync(redisConfig, $"requirepass \"{password.Replace("\"", "", StringComparison.Ordinal)}\"\n", ct);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(redisConfig, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        });

        var command = runAsPostgresUser ? "setpriv" : postgresBin;
        var postgres = builder.AddResource(new LocalPostgresResource("postgres", command, dataDirectory, postgresPassword.Resource, DatabaseName))
            .WithEndpoint(name: "tcp", scheme: "tcp")
            .WithArgs(context =>
            {
                var endpoint = ((LocalPostgresResource)context.Resource).PrimaryEndpoint;
                if (runAsPostgresUser)
                {
                    foreach (var arg in LocalBinaries.AsPostgresUserArgs)
                    {
                        context.Args.Add(arg);
                    }

                    context.Args.Add(postgresBin);
                }

                context.Args.Add("-D");
                context.Args.Add(postgresData);
                context.Args.Add("-p");
                context.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("-c");
                context.Args.Add("listen_addresses=127.0.0.1");
                context.Args.Add("-c");
                context.Args.Add("unix_socket_directories=");
                context.Args.Add("-c");
                context.Args.Add("max_connections=300");
            });
        AddHealthCheck(builder, postgres, "postgres_local_check", (r, ct) => QueryPostgresAsync(r, ct));

        // The services' own connection: the least-privilege role the migrator creates and keeps (see DatabaseMigrator).
        var endpoint = postgres.Resource.PrimaryEndpoint;
        var appDatabase = builder.AddConnectionString("secondbrain-app", ReferenceExpression.Create(
            $"Host={endpoint.Property(EndpointProperty.Host)};Port={endpoint.Property(EndpointProperty.Port)};Username={SecondBrainInfrastructure.AppRole};Password={secrets.AppDatabasePassword};Database={DatabaseName}"));

        // initdb on first run, and the password kept in step with the parameter on every run, before postgres starts.
        builder.Eventing.Subscribe<BeforeStartEvent>(async (_, ct) =>
        {
            var password = await postgresPassword.Resource.GetValueAsync(ct)
                ?? throw new InvalidOperationException("The postgres-password parameter has no value.");
            await LocalPostgresSetup.PrepareAsync(postgresData, initdbBin, postgresBin, runAsPostgresUser, password, DatabaseName, ct);
        });

        return new SecondBrainInfrastructure(
            builder.CreateResourceBuilder<IResourceWithConnectionString>(redis.Resource),
            builder.CreateResourceBuilder<IResourceWithConnectionString>(postgres.Resource),
            builder.CreateResourceBuilder<IResourceWithConnectionString>(appDatabase.Resource));
    }

    private static void AddHealthCheck<T>(IDistributedApplicationBuilder builder, IResourceBuilder<T> resource, string key,
        Func<T, CancellationToken, Task> probe) where T : IResource
    {
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(key, _ => new DelegateHealthCheck<T>(resource.Resource, probe), HealthStatus.Unhealthy, []));
        resource.WithHealthCheck(key);
    }

    private static async Task PingRedisAsync(LocalRedisResource redis, CancellationToken ct)
    {
        var connection = await redis.ConnectionStringExpression.GetValueAsync(ct) ?? throw new InvalidOperationException("No Redis endpoint yet.");
        var hostAndPort = connection.Split(',')[0];
        var password = await redis.Password.GetValueAsync(ct) ?? "";
        var separator = hostAndPort.LastIndexOf(':');
        using var client = new TcpClient();
        await client.ConnectAsync(hostAndPort[..separator], int.Parse(hostAndPort[(separator + 1)..], System.Globalization.CultureInfo.InvariantCulture), ct);
        await using var stream = client.GetStream();
        // RESP arrays, so a password with spaces or quotes is sent as it is.
        var auth = $"*2\r\n$4\r\nAUTH\r\n${Encoding.UTF8.GetByteCount(password)}\r\n{password}\r\n*1\r\n$4\r\nPING\r\n";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(auth), ct);
        var reply = new StringBuilder();
        var buffer = new byte[256];
        while (!reply.ToString().Contains("PONG", StringComparison.Ordinal) && !reply.ToString().Contains("-", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, ct);
            if (read == 0)
            {
                break;
            }

            reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        if (!reply.ToString().Contains("+PONG", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Redis answered '{reply.ToString().Trim()}' to AUTH and PING.");
        }
    }

    private static async Task QueryPostgresAsync(LocalPostgresResource postgres, CancellationToken ct)
    {
        var connectionString = await postgres.ConnectionStringExpression.GetValueAsync(ct) ?? throw new InvalidOperationException("No Postgres endpoint yet.");
        await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false;Timeout=3");
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync(ct);
    }

    private sealed class DelegateHealthCheck<T>(T resource, Func<T, CancellationToken, Task> probe) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await probe(resource, cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy(ex.Message, ex);
            }
        }
    }
}

/// <summary>Finds the server binaries the local mode needs, and says which package to install when one is missing.</summary>
internal static class LocalBinaries
{
    public static readonly string[] AsPostgresUserArgs = ["--reuid=postgres", "--regid=postgres", "--init-groups"];

    public static bool IsRoot => Environment.UserName == "root";

    public static string Require(string binary, string debianPackage)
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, binary))
            // Debian keeps the PostgreSQL server binaries off the PATH, under a versioned directory.
            .Concat(Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d, StringComparer.Ordinal).Select(d => Path.Combine(d, "bin", binary))
                : []);

        return candidates.FirstOrDefault(File.Exists)
            ?? throw new DistributedApplicationException(
                $"Local mode needs '{binary}', which was not found on the PATH. Install the '{debianPackage}' package " +
                $"(sudo apt-get install -y {debianPackage}), or run with --Infra container where Docker or Podman is available.");
    }
}

/// <summary>First-run initdb and per-run password sync for the local Postgres, in single-user mode before it starts.</summary>
internal static class LocalPostgresSetup
{
    public static async Task PrepareAsync(string dataDirectory, string initdb, string postgres, bool asPostgresUser,
        string password, string databaseName, CancellationToken ct)
    {
        var fresh = !File.Exists(Path.Combine(dataDirectory, "PG_VERSION"));
        if (fresh)
        {
            Directory.CreateDirectory(dataDirectory);
            if (asPostgresUser)
            {
                await RunAsync("chown", ["-R", "postgres:postgres", dataDirectory], null, false, ct);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            var passwordFile = Path.Combine(Path.GetDirectoryName(dataDirectory)!, ".pgpass-init");
            await File.WriteAllTextAsync(passwordFile, password, ct);
            try
            {
                if (asPostgresUser)
                {
                    await RunAsync("chown", ["postgres:postgres", passwordFile], null, false, ct);
                }

                await RunAsync(initdb,
                    ["-D", dataDirectory, "-U", "postgres", "--pwfile", passwordFile, "-E", "UTF8", "--locale=C",
                     "--auth-host=scram-sha-256", "--auth-local=peer"],
                    null, asPostgresUser, ct);
            }
            finally
            {
                File.Delete(passwordFile);
            }
        }

        var escaped = password.Replace("'", "''", StringComparison.Ordinal);
        var script = new StringBuilder();
        script.Append("ALTER USER postgres WITH PASSWORD '").Append(escaped).Append("';\n");
        if (fresh)
        {
            script.Append("CREATE DATABASE ").Append(databaseName).Append(";\n");
        }

        await RunAsync(postgres, ["--single", "-D", dataDirectory, "postgres"], script.ToString(), asPostgresUser, ct);
    }

    private static async Task RunAsync(string file, string[] args, string? stdin, bool asPostgresUser, CancellationToken ct)
    {
        var startInfo = asPostgresUser
            ? new ProcessStartInfo("setpriv", [.. LocalBinaries.AsPostgresUserArgs, file, .. args])
            : new ProcessStartInfo(file, args);
        startInfo.RedirectStandardInput = stdin is not null;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        await process.WaitForExitAsync(ct);
        var error = await stderr;
        await stdout;
        if (process.ExitCode != 0 || error.Contains("ERROR:", StringComparison.Ordinal) || error.Contains("FATAL:", StringComparison.Ordinal))
        {
            throw new DistributedApplicationException($"'{file} {string.Join(' ', args)}' failed (exit {process.ExitCode}): {error.Trim()}");
        }
    }
}
