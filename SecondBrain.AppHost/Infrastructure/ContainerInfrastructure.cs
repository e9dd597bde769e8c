namespace SecondBrain.AppHost.Infrastructure;

internal static class ContainerInfrastructure
{
    // Pinned so a data volume is never opened by a surprise major version.
    private const string QdrantImage = "qdrant/qdrant";
    private const string QdrantTag = "v1.15.4";

    public static SecondBrainInfrastructure AddContainerInfrastructure(this IDistributedApplicationBuilder builder, SecondBrainSecrets secrets)
    {
        var redis = builder.AddRedis("redis", password: secrets.RedisPassword).WithDataVolume("secondbrain-redis");

        var server = builder.AddPostgres("postgres", password: secrets.PostgresPassword)
            .WithDataVolume("secondbrain-postgres");
        var database = server.AddDatabase(SecondBrainInfrastructure.DatabaseName);
        var endpoint = server.Resource.PrimaryEndpoint;
        var appDatabase = builder.AddConnectionString("secondbrain-app", ReferenceExpression.Create(
            $"Host={endpoint.Property(EndpointProperty.Host)};Port={endpoint.Property(EndpointProperty.Port)};Username={SecondBrainInfrastructure.AppRole};Password={secrets.AppDatabasePassword};Database={SecondBrainInfrastructure.DatabaseName}"));

        var qdrantApiKey = builder.AddParameter("qdrant-api-key",
            new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);
        var qdrant = builder.AddContainer("qdrant-server", QdrantImage, QdrantTag)
            .WithHttpEndpoint(targetPort: 6333, name: "http")
            .WithEndpoint(targetPort: 6334, name: "grpc", scheme: "http")
            .WithEnvironment("QDRANT__SERVICE__API_KEY", qdrantApiKey)
            .WithEnvironment("QDRANT__SERVICE__ENABLE_TLS", "false")
            .WithVolume("secondbrain-qdrant", "/qdrant/storage")
            .WithHttpHealthCheck("/readyz", endpointName: "http");
        var grpc = qdrant.GetEndpoint("grpc");
        var qdrantConnection = builder.AddConnectionString("qdrant",
            ReferenceExpression.Create($"Endpoint={grpc.Property(EndpointProperty.Url)};Key={qdrantApiKey}"));

        return new SecondBrainInfrastructure(
            redis.AsConnectionString(),
            database.AsConnectionString(),
            appDatabase.AsConnectionString(),
            qdrantConnection.AsConnectionString(),
            qdrant);
    }

    private static IResourceBuilder<IResourceWithConnectionString> AsConnectionString<T>(this IResourceBuilder<T> builder)
        where T : IResourceWithConnectionString =>
        builder.ApplicationBuilder.CreateResourceBuilder<IResourceWithConnectionString>(builder.Resource);
}
