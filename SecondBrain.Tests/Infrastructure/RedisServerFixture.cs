using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace SecondBrain.Tests.Infrastructure;

/// <summary>
/// A throwaway redis-server on a free port, without persistence, for unit tests that need real Redis (embedding
/// cache, Slack user names); not started, and the tests skipped by <see cref="RedisFactAttribute"/>, without Redis.
/// </summary>
public sealed class RedisServerFixture : IDisposable
{
    private readonly Process? _server;
    private readonly ConnectionMultiplexer? _connection;

    public RedisServerFixture()
    {
        if (RedisFactAttribute.RedisServerPath is not { } path)
        {
            return;
        }

        var port = FreePort();
        _server = Process.Start(new ProcessStartInfo(path)
        {
            ArgumentList = { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false
        }) ?? throw new InvalidOperationException("redis-server did not start.");
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                _connection = ConnectionMultiplexer.Connect($"127.0.0.1:{port},connectTimeout=1000");
                break;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
        }
    }

    public IConnectionMultiplexer Connection => _connection ?? throw new InvalidOperationException("redis-server is not installed.");

    public IDatabase Database => Connection.GetDatabase();

    public void Dispose()
    {
        _connection?.Dispose();
        if (_server is { HasExited: false })
        {
            _server.Kill();
            _server.WaitForExit(5000);
        }

        _server?.Dispose();
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A fact that needs redis-server on the PATH; skipped with the reason when it is not installed.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public static readonly string? RedisServerPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(directory => Path.Combine(directory, OperatingSystem.IsWindows() ? "redis-server.exe" : "redis-server"))
        .FirstOrDefault(File.Exists);

    public RedisFactAttribute()
    {
        if (RedisServerPath is null)
        {
            Skip = "redis-server is not on the PATH; install Redis (apt-get install redis-server) to run the tests that need Redis.";
        }
    }
}
