using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using SecondBrain.Core.Data;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Tests.Unit.VectorIndex;

/// <summary>
/// A throwaway Postgres for the vector index tests only: initdb in a temp directory, a free port on 127.0.0.1, no
/// unix socket, trust authentication (nothing else can reach it), schema by the real EF migrations. Run as the
/// <c>postgres</c> OS user when the tests run as root, since postgres refuses to run as root.
/// </summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    private const string DatabaseName = "secondbrain_vectors";

    private readonly StringBuilder _serverLog = new();
    private string? _directory;
    private Process? _server;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (PostgresBinaries.SkipReason is not null)
        {
            return; // every test of this fixture is skipped and says why
        }

        var asPostgresUser = PostgresBinaries.IsRoot;
        // As root the directory must belong to postgres and every parent must be traversable by it; /tmp is.
        var parent = asPostgresUser ? "/tmp" : Path.GetTempPath();
        _directory = Path.Combine(parent, $"secondbrain-vectors-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
        if (asPostgresUser)
        {
            await RunAsync("chown", ["postgres:postgres", _directory], asPostgresUser: false);
        }

        var data = Path.Combine(_directory, "data");
        await RunAsync(PostgresBinaries.InitDb!, ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], asPostgresUser);

        var port = FreePort();
        string[] serverArgs =
        [
            "-D", data, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            // A test server: durability buys nothing here and costs the insert-heavy recall test seconds.
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        ];
        var start = Start(PostgresBinaries.Postgres!, serverArgs, asPostgresUser);
        start.OutputDataReceived += (_, e) => Log(e.Data);
        start.ErrorDataReceived += (_, e) => Log(e.Data);
        start.Start();
        start.BeginOutputReadLine();
        start.BeginErrorReadLine();
        _server = start;

        var admin = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false;Timeout=3";
        await WaitForServerAsync(admin);
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {DatabaseName}", connection);
            await create.ExecuteNonQueryAsync();
        }

        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database={DatabaseName};Maximum Pool Size=20";
        await using var db = CreateContext(null);
        await db.Database.MigrateAsync();
    }

    /// <summary>A context like the services get; with a tenant when it will insert tenant-owned rows.</summary>
    public SecondBrainDbContext CreateContext(Guid? tenantId)
    {
        var tenant = new TenantContext();
        if (tenantId is { } id)
        {
            tenant.Set(id, null);
        }

        var options = new DbContextOptionsBuilder<SecondBrainDbContext>();
        SecondBrainDatabase.Configure(options, ConnectionString);
        return new SecondBrainDbContext(options.Options, tenant);
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_server is { HasExited: false } server)
        {
            // SIGINT is postgres's fast shutdown: it releases its shared memory, which SIGKILL would leak.
            try
            {
                await RunAsync("kill", ["-INT", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], asPostgresUser: false);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await server.WaitForExitAsync(wait.Token);
            }
            catch (Exception) when (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }
        }

        _server?.Dispose();
        if (_directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private void Log(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_serverLog)
        {
            if (_serverLog.Length < 64 * 1024)
            {
                _serverLog.AppendLine(line);
            }
        }
    }

    private async Task WaitForServerAsync(string connectionString)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_server!.HasExited)
            {
                throw new InvalidOperationException($"postgres exited with code {_server.ExitCode}:\n{ServerLog()}");
            }

            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                return;
            }
            catch (Exception ex) when ((ex is NpgsqlException or SocketException or TimeoutException) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private string ServerLog()
    {
        lock (_serverLog)
        {
            return _serverLog.ToString();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process Start(string file, string[] args, bool asPostgresUser)
    {
        var info = asPostgresUser
            ? new ProcessStartInfo("setpriv", [.. PostgresBinaries.AsPostgresUser, file, .. args])
            : new ProcessStartInfo(file, args);
        info.UseShellExecute = false;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        return new Process { StartInfo = info };
    }

    private static async Task RunAsync(string file, string[] args, bool asPostgresUser)
    {
        using var process = Start(file, args, asPostgresUser);
        process.Start();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} failed ({process.ExitCode}):\n{await output}\n{await error}");
        }
    }
}

/// <summary>Where initdb and postgres are, and why the tests are skipped when they are not.</summary>
public static class PostgresBinaries
{
    public static readonly string[] AsPostgresUser = ["--reuid=postgres", "--regid=postgres", "--init-groups"];

    public static bool IsRoot => Environment.UserName == "root";

    public static readonly string? InitDb;
    public static readonly string? Postgres;
    public static readonly string? SkipReason;

    static PostgresBinaries()
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            // Debian keeps the server binaries off the PATH, under a versioned directory.
            .Concat(Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d, StringComparer.Ordinal).Select(d => Path.Combine(d, "bin"))
                : []);

        // Both from one directory, so initdb and the server are the same version.
        var directory = directories.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "postgres")));
        if (directory is null)
        {
            SkipReason = "The PostgreSQL server binaries (initdb, postgres) are not on the PATH or under /usr/lib/postgresql/*/bin; "
                + "install the 'postgresql' package (apt-get install -y postgresql) to run the Postgres vector index tests.";
            return;
        }

        InitDb = Path.Combine(directory, "initdb");
        Postgres = Path.Combine(directory, "postgres");
        if (IsRoot && !File.Exists("/usr/bin/setpriv") && !File.Exists("/bin/setpriv"))
        {
            SkipReason = "Running as root, postgres must run as the 'postgres' user through setpriv, which is not installed (util-linux).";
        }
        else if (IsRoot && !File.ReadLines("/etc/passwd").Any(l => l.StartsWith("postgres:", StringComparison.Ordinal)))
        {
            SkipReason = "Running as root, postgres must run as the 'postgres' OS user, which does not exist (the postgresql package creates it).";
        }
    }
}

/// <summary>A fact that needs the throwaway Postgres; skipped, saying why, when the server binaries are missing.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresBinaries.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
