using System.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace SecondBrain.AppHost.Infrastructure;

public enum InfraMode
{
    Auto,
    Container,
    Local
}

public enum LocalModelKind
{
    None,
    Ollama
}

/// <summary>The AppHost's own settings: command line (<c>--Infra local</c>), environment or appsettings.</summary>
/// <param name="LocalModel">An opt-in model server the AppHost starts and wires in as the services' chat model (<c>--LocalModel ollama</c>).</param>
/// <param name="LocalModelChat">The chat model the local model server pulls and serves (<c>--LocalModelChat</c>).</param>
public sealed record AppHostSettings(
    InfraMode Infra,
    int ApiReplicas,
    int WorkerReplicas,
    string DataDirectory,
    bool Demo = false,
    LocalModelKind LocalModel = LocalModelKind.None,
    string LocalModelChat = AppHostSettings.DefaultLocalModelChat)
{
    public const string DefaultLocalModelChat = "llama3.2:3b";

    public static AppHostSettings Read(IConfiguration configuration, string appHostDirectory)
    {
        var requested = configuration["Infra"] is { Length: > 0 } raw
            ? Enum.TryParse<InfraMode>(raw, ignoreCase: true, out var mode)
                ? mode
                : throw new InvalidOperationException($"Infra must be auto, container or local (was '{raw}').")
            : InfraMode.Auto;

        var infra = requested == InfraMode.Auto
            ? ContainerRuntimeProbe.IsAvailable() ? InfraMode.Container : InfraMode.Local
            : requested;

        var dataDirectory = configuration["DataDirectory"] is { Length: > 0 } dir
            ? Path.GetFullPath(dir, appHostDirectory)
            : Path.GetFullPath(Path.Combine(appHostDirectory, "..", ".data"));

        return new AppHostSettings(
            infra,
            ReadCount(configuration, "ApiReplicas", 2),
            ReadCount(configuration, "WorkerReplicas", 1),
            dataDirectory,
            bool.TryParse(configuration["Demo"], out var demo) && demo,
            configuration["LocalModel"] is { Length: > 0 } model
                ? Enum.TryParse<LocalModelKind>(model, ignoreCase: true, out var kind)
                    ? kind
                    : throw new InvalidOperationException($"LocalModel must be none or ollama (was '{model}').")
                : LocalModelKind.None,
            configuration["LocalModelChat"] is { Length: > 0 } chat ? chat : DefaultLocalModelChat);
    }

    private static int ReadCount(IConfiguration configuration, string key, int fallback)
    {
        var raw = configuration[key];
        if (string.IsNullOrWhiteSpace(raw))
        {
            return fallback;
        }

        return int.TryParse(raw, out var value) && value is >= 1 and <= 32
            ? value
            : throw new InvalidOperationException($"{key} must be a whole number from 1 to 32 (was '{raw}').");
    }
}

/// <summary>Answers "is there a container runtime?" within a few seconds: docker first, then podman.</summary>
internal static class ContainerRuntimeProbe
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(4);

    public static bool IsAvailable() => Answers("docker") || Answers("podman");

    private static bool Answers(string runtime)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, ["info", "--format", "{{.ServerVersion}}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false
            });
            if (process is null)
            {
                return false;
            }

            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // not installed
        }
    }
}
