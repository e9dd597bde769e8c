using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// The usual ways a start goes wrong end with one line naming the cause and the remedy, and exit code 1: the real
/// AppHost executable, started as a person would start it, on a data directory another stack holds, on a port
/// another process holds, and without redis-server on the PATH.
/// </summary>
public sealed class StartupFailureTests
{
    [Fact]
    public async Task A_second_stack_on_the_same_data_directory_stops_with_one_line()
    {
        var data = Directory.CreateTempSubdirectory("secondbrain-startup-").FullName;
        try
        {
            // What a running AppHost holds for its whole life.
            await using var held = new FileStream(Path.Combine(data, ".apphost.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            var (exit, error) = await RunAppHostAsync(data, new Dictionary<string, string?>());
            Assert.Equal(1, exit);
            AssertOneLine(error, "Another SecondBrain stack is running on the data directory", "--DataDirectory");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_port_already_taken_stops_with_one_line_naming_it()
    {
        var data = Directory.CreateTempSubdirectory("secondbrain-startup-").FullName;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var (exit, error) = await RunAppHostAsync(data, new Dictionary<string, string?> { ["ASPNETCORE_URLS"] = $"http://localhost:{port}" });
            Assert.Equal(1, exit);
            AssertOneLine(error, $"Port {port}", "already in use");
        }
        finally
        {
            listener.Stop();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_missing_server_binary_stops_with_one_line_naming_the_package()
    {
        var data = Directory.CreateTempSubdirectory("secondbrain-startup-").FullName;
        try
        {
            var (exit, error) = await RunAppHostAsync(data, new Dictionary<string, string?> { ["PATH"] = "/nonexistent" });
            Assert.Equal(1, exit);
            AssertOneLine(error, "Local mode needs 'redis-server'", "apt-get install -y redis-server");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static void AssertOneLine(string error, params string[] expected)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("warn:", StringComparison.Ordinal) && !l.StartsWith("info:", StringComparison.Ordinal))
            .ToList();
        Assert.True(lines.Count == 1, $"expected one line, got {lines.Count}:\n{error}");
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        foreach (var text in expected)
        {
            Assert.Contains(text, lines[0], StringComparison.Ordinal);
        }
    }

    private static async Task<(int Exit, string Error)> RunAppHostAsync(string dataDirectory, IReadOnlyDictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo(AppHostExecutable(), ["--Infra", "local", "--DataDirectory", dataDirectory])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false
        };
        start.Environment["DOTNET_ROOT"] = Path.GetDirectoryName(Environment.ProcessPath) is { } dir && File.Exists(Path.Combine(dir, "dotnet"))
            ? dir
            : Environment.GetEnvironmentVariable("DOTNET_ROOT") ?? "/usr/share/dotnet";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The AppHost did not stop by itself: {await output}");
        }

        return (process.ExitCode, await error);
    }

    /// <summary>The AppHost as built next to this test run (same configuration).</summary>
    private static string AppHostExecutable()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "SecondBrain.AppHost", "bin", configuration, "net10.0", "SecondBrain.AppHost");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("The AppHost executable was not found; build the solution first.");
    }
}
