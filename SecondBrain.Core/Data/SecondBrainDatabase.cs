using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace SecondBrain.Core.Data;

public static class SecondBrainDatabase
{
    /// <summary>Name of the Postgres connection string (the database resource in the AppHost).</summary>
    public const string ConnectionName = "secondbrain";

    /// <summary>
    /// The one connection pool of a process, shared by EF and raw SQL. Connecting gives up after a few seconds, so a
    /// request made while Postgres is down answers 503 quickly instead of holding the caller.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Timeout", StringComparison.OrdinalIgnoreCase))
        {
            builder.Timeout = 5;
        }

        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    public static void Configure(DbContextOptionsBuilder options, NpgsqlDataSource dataSource) =>
        options.UseNpgsql(dataSource, ConfigureNpgsql).UseSnakeCaseNamingConvention();

    /// <summary>For design-time tools and tests that have only a connection string.</summary>
    public static void Configure(DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString, ConfigureNpgsql).UseSnakeCaseNamingConvention();

    private static void ConfigureNpgsql(Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure.NpgsqlDbContextOptionsBuilder npgsql) => npgsql
        .MigrationsHistoryTable("__ef_migrations_history")
        // Bounded: a blip is ridden out, an outage surfaces within seconds (as 503 in the Api, as an infrastructure
        // failure that counts no attempt in the Worker) instead of stalling each caller for a minute.
        .EnableRetryOnFailure(maxRetryCount: 3, maxRetryDelay: TimeSpan.FromSeconds(1), errorCodesToAdd: null);
}
