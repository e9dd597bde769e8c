using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace SecondBrain.Core.Data;

/// <summary>
/// The one raw-SQL path. Commands run on the connection EF uses (one <see cref="NpgsqlDataSource"/> pool for both),
/// inside the context's current transaction when there is one, and a tenant-scoped command always carries the
/// tenant as <c>@tenant</c>, taken from the same place EF's query filter takes it: the raw SQL has to say
/// <c>tenant_id = @tenant</c>, but it can never forget to bind it or bind another.
/// </summary>
public static class TenantSql
{
    /// <summary>A command bound to the current tenant (<c>@tenant</c>); throws when the scope has none.</summary>
    public static async Task<NpgsqlCommand> TenantCommandAsync(this SecondBrainDbContext db, string sql, CancellationToken ct)
    {
        var tenantId = db.ScopedTenantId ?? throw new InvalidOperationException("A tenant-scoped command needs a tenant in scope.");
        var command = await db.CommandAsync(sql, ct);
        command.Parameters.AddWithValue("tenant", tenantId);
        return command;
    }

    /// <summary>
    /// A command that is not about one tenant (queue claims across tenants, catalog checks). Prefer
    /// <see cref="TenantCommandAsync"/>; this exists for the few statements that must see every tenant.
    /// </summary>
    public static async Task<NpgsqlCommand> CommandAsync(this SecondBrainDbContext db, string sql, CancellationToken ct)
    {
        if (db.Database.GetDbConnection() is not NpgsqlConnection connection)
        {
            throw new InvalidOperationException("SecondBrain runs on PostgreSQL (Npgsql).");
        }

        if (connection.State != System.Data.ConnectionState.Open)
        {
            await db.Database.OpenConnectionAsync(ct);
        }

        var transaction = db.Database.CurrentTransaction?.GetDbTransaction() as NpgsqlTransaction;
        return new NpgsqlCommand(sql, connection, transaction);
    }

    public static NpgsqlCommand With(this NpgsqlCommand command, string name, object? value)
    {
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}
