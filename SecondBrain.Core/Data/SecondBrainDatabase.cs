using Microsoft.EntityFrameworkCore;

namespace SecondBrain.Core.Data;

public static class SecondBrainDatabase
{
    /// <summary>Name of the Postgres connection string (the database resource in the AppHost).</summary>
    public const string ConnectionName = "secondbrain";

    public static void Configure(DbContextOptionsBuilder options, string connectionString) =>
        options
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history"))
            .UseSnakeCaseNamingConvention();
}
