using Microsoft.Extensions.DependencyInjection.Extensions;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Ingestion.Parsing;

namespace Microsoft.Extensions.DependencyInjection;

public static class DocumentParsingExtensions
{
    /// <summary>
    /// Document parsing: the versioned settings store (scoped), its bounded cache with the Redis change listener
    /// (singleton) and the per-job parser factory. Needs the DbContext, IConnectionMultiplexer and
    /// BoundedCacheRegistry registered. A real <see cref="IDocumentIntelligence"/> registered before or after this
    /// call replaces the null one.
    /// </summary>
    public static IServiceCollection AddDocumentParsing(this IServiceCollection services)
    {
        services.TryAddSingleton<IDocumentIntelligence>(NullDocumentIntelligence.Instance);
        services.TryAddSingleton<ParsingSettingsCache>();
        services.TryAddScoped<ParsingSettingsStore>();
        services.TryAddSingleton<IDocumentParserFactory, DocumentParserFactory>();
        return services;
    }
}
