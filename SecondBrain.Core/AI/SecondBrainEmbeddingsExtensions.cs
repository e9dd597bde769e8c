using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SecondBrain.Core.AI;
using SecondBrain.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.DependencyInjection;

public static class SecondBrainEmbeddingsExtensions
{
    /// <summary>
    /// The embedding generator (the model endpoint of <c>ConnectionStrings:openai</c>, see <see cref="ModelConnection"/>,
    /// when it names an embedding model, else the bundled MiniLM model), an <see cref="IChatClient"/> only when that
    /// connection names a chat model (resolve it with <c>GetService</c>: without one, answers are extractive),
    /// and the two-level <see cref="CachedEmbeddingService"/>. Needs an <c>IConnectionMultiplexer</c>.
    /// </summary>
    public static IServiceCollection AddSecondBrainEmbeddings(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<EmbeddingOptions>().Bind(configuration.GetSection(EmbeddingOptions.SectionName)).ValidateDataAnnotations()
            .Validate(o => o.L2TimeToLive > TimeSpan.Zero, "Embeddings:L2TimeToLive must be positive.")
            .Validate(o => o.LockTimeout > TimeSpan.Zero, "Embeddings:LockTimeout must be positive.")
            .ValidateOnStart();

        var model = ModelConnection.TryParse(configuration.GetConnectionString(ModelConnection.ConnectionName));
        if (model is not null)
        {
            services.AddSingleton(model);
        }

        if (model?.EmbeddingModel is not null)
        {
            services.AddSingleton(_ => model.CreateEmbeddingGenerator());
        }
        else
        {
            services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(_ => new LocalMiniLmEmbeddingGenerator());
        }

        if (model?.ChatModel is not null)
        {
            services.AddSingleton(_ => model.CreateChatClient());
        }

        services.TryAddSingleton<BoundedCacheRegistry>();
        services.AddSingleton<CachedEmbeddingService>();
        return services;
    }
}
