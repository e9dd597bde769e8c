using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace SecondBrain.ServiceDefaults.Telemetry;

/// <summary>Who this process is: unique per replica and per process start.</summary>
public sealed record InstanceIdentity(string ServiceName, string InstanceId, string Version, DateTimeOffset StartedAt, int ProcessId)
{
    public static InstanceIdentity Create(string applicationName, IConfiguration configuration)
    {
        var serviceName = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } otelName ? otelName : applicationName;
        var version = Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                      ?? Assembly.GetEntryAssembly()?.GetName().Version?.ToString()
                      ?? "0.0.0";

        // Aspire names each replica (service.instance.id in OTEL_RESOURCE_ATTRIBUTES); a process id and a random
        // suffix keep the id unique even if the same replica is restarted or the variable is absent.
        var replicaName = ParseResourceAttribute(configuration["OTEL_RESOURCE_ATTRIBUTES"], "service.instance.id")
                          ?? Environment.MachineName;
        var instanceId = $"{replicaName}-{Environment.ProcessId}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..3])}";

        return new InstanceIdentity(serviceName, instanceId, version, DateTimeOffset.UtcNow, Environment.ProcessId);
    }

    internal static string? ParseResourceAttribute(string? attributes, string key)
    {
        if (string.IsNullOrWhiteSpace(attributes))
        {
            return null;
        }

        foreach (var pair in attributes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var separator = pair.IndexOf('=');
            if (separator > 0 && pair[..separator].Trim() == key)
            {
                var value = pair[(separator + 1)..].Trim();
                return value.Length > 0 ? value : null;
            }
        }

        return null;
    }
}
