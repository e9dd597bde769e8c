using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>
/// Builds a fresh <see cref="DocumentParser"/> per job from the tenant's current settings. A singleton, so it reads
/// the settings through its own scope (the DbContext is scoped) and keeps nothing of the tenant's. The settings come
/// capped by the deployment's <see cref="ParsingLimits"/>, which the parser also gets for the limits no tenant sets.
/// </summary>
public sealed class DocumentParserFactory(IServiceScopeFactory scopes, IDocumentIntelligence intelligence, IOptions<ParsingLimits> limits) : IDocumentParserFactory
{
    public async Task<IDocumentParser> CreateAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var store = scope.ServiceProvider.GetRequiredService<ParsingSettingsStore>();
            var settings = await store.GetCurrentAsync(tenantId, cancellationToken).ConfigureAwait(false);
            return new DocumentParser(settings, intelligence, limits.Value);
        }
    }
}
