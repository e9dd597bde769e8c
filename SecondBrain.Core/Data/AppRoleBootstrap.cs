using Npgsql;

namespace SecondBrain.Core.Data;

/// <summary>
/// The connection strings a process has: the application role's (what every query runs as) and, to migrate, the
/// owner's. Without a separate owner (a deployment that gives one connection string) both are the same and no role
/// is managed.
/// </summary>
public sealed record DatabaseConnections(string Application, string Owner)
{
    public const string OwnerConnectionName = "secondbrain-owner";

    /// <summary>The role to create and grant when the application connects as someone other than the owner.</summary>
    public (string User, string Password)? AppRole
    {
        get
        {
            var app = new NpgsqlConnectionStringBuilder(Application);
            var owner = new NpgsqlConnectionStringBuilder(Owner);
            return app.Username is { Length: > 0 } user && !string.Equals(user, owner.Username, StringComparison.Ordinal) && app.Password is { Length: > 0 } password
                ? (user, password)
                : null;
        }
    }
}

/// <summary>
/// Keeps the application role least-privileged: it may log in and read and write rows (and use sequences), nothing
/// else: no DDL, no other databases, not a superuser. Run by the migrator, as the owner, after every migration, so
/// tables a migration adds are granted too and the password follows the deployment's secret.
/// </summary>
public static class AppRoleBootstrap
{
    public static async Task ApplyAsync(NpgsqlConnection owner, string role, string password, CancellationToken ct)
    {
        // Role names and passwords cannot be bound as parameters in DDL, so format() quotes them (%I, %L).
        const string sql = """
            DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = current_setting('secondbrain.app_role')) THEN
                EXECUTE format('CREATE ROLE %I LOGIN', current_setting('secondbrain.app_role'));
              END IF;
              EXECUTE format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD %L',
                             current_setting('secondbrain.app_role'), current_setting('secondbrain.app_password'));
              EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), current_setting('secondbrain.app_role'));
              EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', current_setting('secondbrain.app_role'));
              EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', current_setting('secondbrain.app_role'));
              EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO %I', current_setting('secondbrain.app_role'));
              EXECUTE format('REVOKE CREATE ON SCHEMA public FROM %I', current_setting('secondbrain.app_role'));
            END $$;
            """;
        await using var transaction = await owner.BeginTransactionAsync(ct);
        await using (var settings = new NpgsqlCommand(
            "SELECT set_config('secondbrain.app_role', @role, true), set_config('secondbrain.app_password', @password, true)", owner, transaction))
        {
            settings.Parameters.AddWithValue("role", role);
            settings.Parameters.AddWithValue("password", password);
            await settings.ExecuteNonQueryAsync(ct);
        }

        await using (var command = new NpgsqlCommand(sql, owner, transaction))
        {
            await command.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }
}
