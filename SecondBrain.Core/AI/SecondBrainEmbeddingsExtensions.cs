using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SecondBrain.Core.AI;
using SecondBrain.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.DependencyInjection;

public static class SecondBrainEmbeddingsExtensions
{
    /// <summary>
    /// The embedding generator (Azure OpenAI when <c>ConnectionStrings:openai</c> has an endpoint, a key and an
    /// embedding deployment, else the bundled MiniLM model), an <see cref="IChatClient"/> only when that connection
    /// also names a <c>ChatDeployment</c> (resolve it with <c>GetService</c>: without one, answers are extractive),
    /// and the two-level <see cref="CachedEmbeddingService"/>. Needs an <c>IConnectionMultiplexer</c>.
    /// </summary>
    public static IServiceCollection AddSecondBrainEmbeddings(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<EmbeddingOptions>().Bind(configuration.GetSection(EmbeddingOptions.SectionName)).ValidateDataAnnotations()
            .Validate(o => o.L2TimeToLive > TimeSpan.Zero, "Embeddings:L2TimeToLive must be positive.")
            .Validate(o => o.LockTimeout > TimeSpan.Zero, "Embeddings:LockTimeout must be positive.")
            .ValidateOnStart();

        var azure = AzureOpenAIConnection.TryParse(configuration.GetConnectionString(AzureOpenAIConnection.ConnectionName));
        if (azure is not null)
        {
            services.AddSingleton(azure);
        }

        if (azure?.EmbeddingDeployment is not null)
        {
            services.AddSingleton(_ => azure.CreateEmbeddingGenerator());
        }
        else
        {
            services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(_ => new LocalMiniLmEmbeddingGenerator());
        }

        if (azure?.ChatDeployment is not null)
        {
            services.AddSingleton(_ => azure.CreateChatClient());
        }

        services.TryAddSingleton<BoundedCacheRegistry>();
        services.AddSingleton<CachedEmbeddingService>();
        return services;
    }
}
