using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using SecondBrain.ServiceDefaults.Telemetry;

namespace SecondBrain.Core.Data;

/// <summary>
/// Applies EF Core migrations at start-up, safely when many replicas start at once: a Postgres session-level
/// advisory lock serialises them, so the first applies what is pending and the others find nothing left to do.
/// Each pass is recorded in <c>migration_runs</c>.
/// </summary>
public sealed class DatabaseMigrator(
    IServiceScopeFactory scopes,
    NpgsqlDataSource dataSource,
    InstanceIdentity identity,
    ILogger<DatabaseMigrator> logger)
{
    // Arbitrary but fixed: every SecondBrain process contends on the same key.
    private const long MigrationLockKey = 0x5EC0_0B7A_1A_000001;

    internal static readonly ActivitySource ActivitySource = new("SecondBrain.Migrations");

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        using var activity = ActivitySource.StartActivity("migrate database");
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        var started = DateTimeOffset.UtcNow;

        // A dedicated connection holds the lock for the whole migration; EF uses its own connection meanwhile. It comes
        // from the data source: the context's connection string has the password stripped.
        await using var lockConnection = dataSource.CreateConnection();
        await OpenWithRetryAsync(lockConnection, cancellationToken);
        await using (var acquire = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", lockConnection))
        {
            acquire.Parameters.AddWithValue("key", MigrationLockKey);
            acquire.CommandTimeout = 300;
            await acquire.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                logger.LogInformation("Instance {InstanceId} applies {Count} migration(s): {Migrations}",
                    identity.InstanceId, pending.Count, string.Join(", ", pending));
                await db.Database.MigrateAsync(cancellationToken);
            }
            else
            {
                logger.LogInformation("Database schema is up to date; instance {InstanceId} applied nothing", identity.InstanceId);
            }

            db.MigrationRuns.Add(new MigrationRun
            {
                InstanceId = identity.InstanceId,
                StartedAt = started,
                FinishedAt = DateTimeOffset.UtcNow,
                AppliedMigrations = pending
            });
            await db.SaveChangesAsync(cancellationToken);
        }
        finally
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", lockConnection);
            release.Parameters.AddWithValue("key", MigrationLockKey);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    // The database may still be finishing its own start when a replica comes up; give it a short grace period.
    private async Task OpenWithRetryAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await connection.OpenAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException ex) when (DateTimeOffset.UtcNow < deadline && ex.IsTransient)
            {
                logger.LogWarning(ex, "Database not reachable yet; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }
}
