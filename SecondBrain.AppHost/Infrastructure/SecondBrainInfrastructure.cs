using Microsoft.Extensions.Configuration;

namespace SecondBrain.AppHost.Infrastructure;

/// <summary>
/// The backing services the Api and the Worker use, whichever mode provided them. Connection names are fixed:
/// <c>redis</c>, <c>secondbrain</c> (the database as the least-privilege application role), <c>secondbrain-owner</c>
/// (the same database as its owner, used only to migrate and to keep the application role's grants) and, in container
/// mode, <c>qdrant</c>.
/// </summary>
public sealed record SecondBrainInfrastructure(
    IResourceBuilder<IResourceWithConnectionString> Redis,
    IResourceBuilder<IResourceWithConnectionString> Database,
    IResourceBuilder<IResourceWithConnectionString> AppDatabase,
    IResourceBuilder<IResourceWithConnectionString>? Qdrant = null,
    IResourceBuilder<ContainerResource>? QdrantServer = null)
{
    /// <summary>The role the services run as: no DDL, no superuser, data only (created by the migrator).</summary>
    public const string AppRole = "secondbrain_app";

    public const string DatabaseName = "secondbrain";
}

public static class SecondBrainInfrastructureExtensions
{
    public static IResourceBuilder<ProjectResource> WithSecondBrainInfrastructure(
        this IResourceBuilder<ProjectResource> project, SecondBrainInfrastructure infrastructure)
    {
        project.WithReference(infrastructure.Redis, "redis").WaitFor(infrastructure.Redis)
            .WithReference(infrastructure.AppDatabase, "secondbrain")
            .WithReference(infrastructure.Database, "secondbrain-owner").WaitFor(infrastructure.Database);
        if (infrastructure.Qdrant is { } qdrant)
        {
            project.WithReference(qdrant, "qdrant");
        }

        if (infrastructure.QdrantServer is { } server)
        {
            project.WaitFor(server);
        }

        return project;
    }

    /// <summary>
    /// Passes every key of a configuration section to the service as environment variables (Section__Key), except
    /// secrets (keys ending in Secret, Password or Key), which travel as secret parameters instead.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithConfigurationSection(
        this IResourceBuilder<ProjectResource> project, IConfiguration configuration, string section)
    {
        foreach (var pair in configuration.GetSection(section).AsEnumerable())
        {
            if (pair.Value is not null && !IsSecret(pair.Key))
            {
                project.WithEnvironment(pair.Key.Replace(":", "__", StringComparison.Ordinal), pair.Value);
            }
        }

        return project;
    }

    /// <summary>Provider client secrets as secret parameters (Parameters:{provider}-client-secret, or the Integrations setting).</summary>
    public static IResourceBuilder<ProjectResource> WithProviderSecrets(
        this IResourceBuilder<ProjectResource> project, IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> secrets)
    {
        foreach (var (key, parameter) in secrets)
        {
            project.WithEnvironment(key.Replace(":", "__", StringComparison.Ordinal), parameter);
        }

        return project;
    }

    /// <summary>One secret parameter per configured provider client secret, found once for every project.</summary>
    public static IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> AddProviderSecrets(
        this IDistributedApplicationBuilder builder, params string[] providers)
    {
        var secrets = new Dictionary<string, IResourceBuilder<ParameterResource>>(StringComparer.Ordinal);
        foreach (var provider in providers)
        {
            var key = $"Integrations:{provider}:ClientSecret";
            var name = $"{provider.ToLowerInvariant()}-client-secret";
            if (!string.IsNullOrEmpty(builder.Configuration[key]) || !string.IsNullOrEmpty(builder.Configuration[$"Parameters:{name}"]))
            {
                secrets[key] = string.IsNullOrEmpty(builder.Configuration[$"Parameters:{name}"])
                    ? builder.AddParameterFromConfiguration(name, key, secret: true)
                    : builder.AddParameter(name, secret: true);
            }
        }

        return secrets;
    }

    private static bool IsSecret(string key) =>
        key.EndsWith("Secret", StringComparison.OrdinalIgnoreCase) || key.EndsWith("Password", StringComparison.OrdinalIgnoreCase)
        || key.EndsWith("ApiKey", StringComparison.OrdinalIgnoreCase);
}
