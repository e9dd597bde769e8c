using Microsoft.Extensions.DependencyInjection.Extensions;
using SecondBrain.Core.Storage;

namespace Microsoft.Extensions.DependencyInjection;

public static class BlobStorageExtensions
{
    /// <summary>
    /// The blob store (scoped: it uses the scope's DbContext and tenant) and the archive import options
    /// (<c>Sync:Archives</c>, validated at start) with the staged import that the archive readers share.
    /// Idempotent.
    /// </summary>
    public static IServiceCollection AddBlobStorage(this IServiceCollection services)
    {
        services.AddOptions<ArchiveImportOptions>().BindConfiguration(ArchiveImportOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.MaxPageBytes <= o.MaxInflatedBytes, "Sync:Archives:MaxPageBytes cannot exceed MaxInflatedBytes.")
            .ValidateOnStart();
        services.TryAddScoped<IBlobStore, PostgresBlobStore>();
        services.TryAddScoped<IImportRuns, SyncImportRuns>();
        services.TryAddScoped<StagedImport>();
        return services;
    }
}
