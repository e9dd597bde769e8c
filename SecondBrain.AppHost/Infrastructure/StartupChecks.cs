using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace SecondBrain.AppHost.Infrastructure;

/// <summary>A reason the stack cannot start that a person can act on: printed as one line, without a stack trace.</summary>
public sealed class StartupException(string message) : Exception(message);

/// <summary>
/// Checks made before anything starts, so that the usual mistakes end with one line naming the cause and the remedy
/// instead of an exception from deep inside a server: a second stack on the same data directory, a port another
/// process holds, a stale database server left by an earlier run.
/// </summary>
internal static class StartupChecks
{
    // Held for the AppHost's lifetime: the OS releases it when the process ends, however it ends.
    private static FileStream? _dataDirectoryLock;

    private static readonly string[] FixedEndpointSettings =
        ["ASPNETCORE_URLS", "ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL", "ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL", "ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"];

    public static void Run(IConfiguration configuration, AppHostSettings settings)
    {
        if (settings.Infra == InfraMode.Local)
        {
            LockDataDirectory(settings.DataDirectory);
            RefuseStalePostgres(Path.Combine(settings.DataDirectory, "postgres"));
        }

        foreach (var name in FixedEndpointSettings)
        {
            foreach (var url in (configuration[name] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                RequireFreePort(name, url);
            }
        }
    }

    private static void LockDataDirectory(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, ".apphost.lock");
        try
        {
            _dataDirectoryLock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new StartupException(
                $"Another SecondBrain stack is running on the data directory {dataDirectory}. Stop it first (Ctrl+C in its terminal), " +
                "or start this one on another folder: ./run.sh --DataDirectory <folder>.");
        }
    }

    /// <summary>A postgres left running on the folder by a stack that was killed would make initdb or the server fail obscurely.</summary>
    private static void RefuseStalePostgres(string postgresData)
    {
        var pidFile = Path.Combine(postgresData, "postmaster.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid))
        {
            return;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.ProcessName.Contains("postgres", StringComparison.OrdinalIgnoreCase))
            {
                throw new StartupException(
                    $"A postgres server from an earlier run (pid {pid}) still uses {postgresData}. Stop it (kill {pid}) and start again.");
            }
        }
        catch (ArgumentException)
        {
            // Not running: postgres removes a stale pid file itself at start.
        }
    }

    private static void RequireFreePort(string setting, string url)
    {
        if (!Uri.TryCreate(url.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal),
                UriKind.Absolute, out var uri) || uri.Port <= 0)
        {
            return;
        }

        try
        {
            var listener = new TcpListener(IPAddress.Loopback, uri.Port);
            listener.Start();
            listener.Stop();
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new StartupException(
                $"Port {uri.Port} ({setting}={url}) is already in use, most likely by another SecondBrain AppHost. Stop that one, " +
                $"or free the port (ss -ltnp 'sport = :{uri.Port}' shows who holds it).");
        }
    }
}
