using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using SecondBrain.Core.Common;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Ingestion.Parsing;

namespace Microsoft.Extensions.DependencyInjection;

public static class DocumentParsingExtensions
{
    /// <summary>
    /// Document parsing: the versioned settings store (scoped), its bounded cache with the Redis change listener
    /// (singleton) and the per-job parser factory. Needs the DbContext, IConnectionMultiplexer and
    /// BoundedCacheRegistry registered. With <c>ConnectionStrings:documentintelligence</c> in
    /// <paramref name="configuration"/>, scanned PDFs and images go to <see cref="AzureDocumentIntelligence"/>;
    /// without it the null one fails them with a reason. A real <see cref="IDocumentIntelligence"/> registered
    /// before this call also replaces the null one. The deployment's <see cref="ParsingLimits"/> are bound from
    /// <c>Ingestion:Parsing</c> and validated at start; and since parsing reads what uploads stored, blob storage is
    /// registered here too.
    /// </summary>
    public static IServiceCollection AddDocumentParsing(this IServiceCollection services, IConfiguration? configuration = null)
    {
        services.AddOptions<ParsingLimits>().BindConfiguration(ParsingLimits.SectionName).ValidateDataAnnotations()
            .Validate(l => l.MaxTimeout >= TimeSpan.FromSeconds(1), "Ingestion:Parsing:MaxTimeout must be at least 1 second.")
            .Validate<IOptions<IngestionOptions>>((l, ingestion) => l.MaxTimeout < ingestion.Value.LeaseDuration,
                "Ingestion:Parsing:MaxTimeout must be shorter than Ingestion:LeaseDuration: a document's parse must end within its batch's lease.")
            .ValidateOnStart();
        services.AddBlobStorage();
        services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(SafeRegex.MeterName));

        if (DocumentIntelligenceConnection.TryParse(configuration?.GetConnectionString(DocumentIntelligenceConnection.ConnectionName)) is { } connection)
        {
            services.AddSingleton(connection);
            services.AddOptions<DocumentIntelligenceOptions>().Bind(configuration!.GetSection(DocumentIntelligenceOptions.SectionName))
                .ValidateDataAnnotations()
                .Validate(o => o.PollInterval > TimeSpan.Zero && o.RetryDelay >= TimeSpan.Zero,
                    "Ingestion:DocumentIntelligence: PollInterval must be positive and RetryDelay not negative.")
                .ValidateOnStart();

            // The client retries and paces its polls itself (see AzureDocumentIntelligence), so the default
            // resilience handler is removed rather than stacked on top. The singleton parser factory holds the one
            // typed client for the process's life, so connections are recycled by the pool instead of by handler
            // rotation, which a held client would never see. RemoveAllResilienceHandlers is marked experimental; it
            // is the documented way to drop the handler ServiceDefaults adds to every client.
#pragma warning disable EXTEXP0001
            services.AddHttpClient<IDocumentIntelligence, AzureDocumentIntelligence>()
                .RemoveAllResilienceHandlers()
                .UseSocketsHttpHandler((handler, _) => handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5))
                .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
#pragma warning restore EXTEXP0001
        }

        services.TryAddSingleton<IDocumentIntelligence>(NullDocumentIntelligence.Instance);
        services.TryAddSingleton<ParsingSettingsCache>();
        services.TryAddScoped<ParsingSettingsStore>();
        services.TryAddSingleton<IDocumentParserFactory, DocumentParserFactory>();
        return services;
    }
}
