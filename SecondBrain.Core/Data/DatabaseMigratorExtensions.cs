using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using SecondBrain.Core.Data;

namespace Microsoft.Extensions.Hosting;

public static class DatabaseMigratorExtensions
{
    /// <summary>Migrates before the host starts serving, so no request ever meets an old schema.</summary>
    public static async Task MigrateDatabaseAsync(this IHost host, CancellationToken cancellationToken = default)
    {
        // The tracer provider is otherwise built when the host starts, after this: resolving it first is what makes
        // the migration's span reach the dashboard.
        host.Services.GetService<TracerProvider>();
        await host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
    }
}
