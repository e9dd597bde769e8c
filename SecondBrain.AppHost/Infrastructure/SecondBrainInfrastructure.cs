using Microsoft.Extensions.Configuration;

namespace SecondBrain.AppHost.Infrastructure;

/// <summary>
/// The backing services the Api and the Worker use, whichever mode provided them. Connection names are fixed:
/// <c>redis</c>, <c>secondbrain</c> (Postgres database) and, in container mode, <c>qdrant</c>.
/// </summary>
public sealed record SecondBrainInfrastructure(
    IResourceBuilder<IResourceWithConnectionString> Redis,
    IResourceBuilder<IResourceWithConnectionString> Database,
    IResourceBuilder<IResourceWithConnectionString>? Qdrant = null,
    IResourceBuilder<ContainerResource>? QdrantServer = null);

public static class SecondBrainInfrastructureExtensions
{
    public static IResourceBuilder<ProjectResource> WithSecondBrainInfrastructure(
        this IResourceBuilder<ProjectResource> project, SecondBrainInfrastructure infrastructure)
    {
        project.WithReference(infrastructure.Redis, "redis").WaitFor(infrastructure.Redis)
            .WithReference(infrastructure.Database, "secondbrain").WaitFor(infrastructure.Database);
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

    /// <summary>Passes every key of a configuration section to the service as environment variables (Section__Key).</summary>
    public static IResourceBuilder<ProjectResource> WithConfigurationSection(
        this IResourceBuilder<ProjectResource> project, IConfiguration configuration, string section)
    {
        foreach (var pair in configuration.GetSection(section).AsEnumerable())
        {
            if (pair.Value is not null)
            {
                project.WithEnvironment(pair.Key.Replace(":", "__", StringComparison.Ordinal), pair.Value);
            }
        }

        return project;
    }
}
