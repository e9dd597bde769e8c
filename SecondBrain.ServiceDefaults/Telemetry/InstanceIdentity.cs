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

        // Aspire names each replica (service.instance.id in OTEL_RESOURCE_ATTRIBUTES); the process id keeps the id
        // unique when the same replica is restarted, the machine name when the variable is absent (other hosts).
        var replicaName = ParseResourceAttribute(configuration["OTEL_RESOURCE_ATTRIBUTES"], "service.instance.id")
                          ?? Environment.MachineName.ToLowerInvariant();
        var instanceId = $"{serviceName}-{replicaName}-{Environment.ProcessId}";

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
