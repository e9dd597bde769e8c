using Microsoft.Extensions.DependencyInjection;
using SecondBrain.Core.Data;

namespace Microsoft.Extensions.Hosting;

public static class DatabaseMigratorExtensions
{
    /// <summary>Migrates before the host starts serving, so no request ever meets an old schema.</summary>
    public static async Task MigrateDatabaseAsync(this IHost host, CancellationToken cancellationToken = default) =>
        await host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
}
