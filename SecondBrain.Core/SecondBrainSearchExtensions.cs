using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Search;

namespace Microsoft.Extensions.Hosting;

public static class SecondBrainSearchExtensions
{
    /// <summary>
    /// Documents, parsing, embeddings (local MiniLM or Azure OpenAI, cached in two levels), the vector index (Qdrant or
    /// Postgres), search and ask: shared by the Api (upload, search, ask) and the Worker (ingestion).
    /// </summary>
    public static TBuilder AddSecondBrainSearch<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddOptions<IngestionOptions>().BindConfiguration(IngestionOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.Chunking.MaxTokens > o.Chunking.OverlapTokens * 2 && o.Chunking.MinTokens < o.Chunking.MaxTokens,
                "Ingestion:Chunking: MaxTokens must exceed twice OverlapTokens and MinTokens.")
            .Validate(o => o.LeaseDuration >= o.RenewInterval * 3, "Ingestion:LeaseDuration must be at least three renewals (RenewInterval) long.")
            .ValidateOnStart();
        services.AddDocumentParsing(builder.Configuration);
        services.AddSecondBrainEmbeddings(builder.Configuration);
        services.AddVectorIndex(builder.Configuration);
        services.AddScoped<CorpusVersion>();
        services.AddScoped<DocumentService>();
        services.AddScoped<DocumentSources>();
        services.AddScoped<DocumentIndexer>();
        builder.Services.AddOpenTelemetry().WithTracing(t => t.AddSource(IngestionTelemetry.Name));
        services.AddSingleton<KeywordStatisticsCache>();
        services.AddScoped<KeywordIndex>();
        services.AddScoped<SearchService>();
        services.AddSingleton<SecondBrain.Core.Search.Answers.ExtractiveAnswerer>();
        services.AddScoped<AskService>();
        return builder;
    }
}
