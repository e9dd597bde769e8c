using SecondBrain.Core.Data;

namespace SecondBrain.Core.Work;

/// <summary>
/// The fence of a claimed queue row: the write that completes the work first locks the row and checks it is still
/// running under this claim's lease token, in the same transaction. A worker whose lease ran out (paused, slow, cut
/// off) and was taken over finds nothing to lock and writes nothing; while the lock is held, nobody can take the row
/// over (claims skip locked rows), so the check stays true until the commit.
/// </summary>
public sealed record LeaseFence(string Table, string KeyColumn, object Key, Guid LeaseToken)
{
    /// <summary>Locks the row if this claim still holds it. Must run inside the transaction that completes the work.</summary>
    public async Task<bool> HoldAsync(SecondBrainDbContext db, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A fence only means something inside the transaction that completes the work.");
        }

        await using var command = await db.CommandAsync(
            $"SELECT 1 FROM {Table} WHERE {KeyColumn} = @key AND lease_token = @token AND status = 'running' FOR UPDATE", ct);
        command.With("key", Key).With("token", LeaseToken);
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>
    /// Ends the row with a final status, releasing the lease, inside the same transaction after <see cref="HoldAsync"/>.
    /// <paramref name="alsoSet"/> adds the table's own columns (", completed_at = now()"), with their parameters.
    /// </summary>
    public async Task FinishAsync(SecondBrainDbContext db, string status, CancellationToken ct, string alsoSet = "", params (string Name, object? Value)[] parameters)
    {
        await using var command = await db.CommandAsync(
            $"UPDATE {Table} SET status = @status, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL{alsoSet} WHERE {KeyColumn} = @key AND lease_token = @token",
            ct);
        command.With("status", status).With("key", Key).With("token", LeaseToken);
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }

        await command.ExecuteNonQueryAsync(ct);
    }
}
