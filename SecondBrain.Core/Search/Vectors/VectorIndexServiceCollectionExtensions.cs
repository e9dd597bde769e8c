using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Qdrant.Client;
using SecondBrain.Core.Search;
using SecondBrain.Core.Search.Vectors;

namespace Microsoft.Extensions.DependencyInjection;

public static class VectorIndexServiceCollectionExtensions
{
    /// <summary>
    /// The vector index: Qdrant when <c>ConnectionStrings:qdrant</c> is set (container mode), else the chunks table
    /// in Postgres (local mode). Settings come from the <c>VectorIndex</c> section.
    /// </summary>
    public static IServiceCollection AddVectorIndex(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<VectorIndexOptions>()
            .Bind(configuration.GetSection(VectorIndexOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var qdrant = configuration.GetConnectionString(QdrantVectorIndex.ConnectionName);
        if (!string.IsNullOrWhiteSpace(qdrant))
        {
            // One gRPC channel per process: the client is thread-safe and holds no tenant data.
            services.TryAddSingleton(sp => QdrantVectorIndex.CreateClient(qdrant, sp.GetService<ILoggerFactory>()));
            services.TryAddSingleton<QdrantVectorIndex>();
            services.TryAddSingleton<IVectorIndex>(sp => sp.GetRequiredService<QdrantVectorIndex>());
        }
        else
        {
            // Scoped like the DbContext it runs on, so it joins the unit of work's connection and transaction.
            services.TryAddScoped<PostgresVectorIndex>();
            services.TryAddScoped<IVectorIndex>(sp => sp.GetRequiredService<PostgresVectorIndex>());
        }

        return services;
    }
}
