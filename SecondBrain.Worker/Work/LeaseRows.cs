using Npgsql;

namespace SecondBrain.Worker.Work;

/// <summary>
/// The leasing statements every queue table shares: renew, hand back without counting (infrastructure failure or
/// shutdown) and queue again after a counted attempt (a bad item). Each is fenced by the claim's lease token, so a
/// worker that lost its lease changes nothing.
/// </summary>
internal sealed class LeaseRows<TKey>(NpgsqlDataSource dataSource, LeaseTable table, LeasedWorkOptions options)
{
    public async Task<IReadOnlyList<TKey>> RenewAsync(Lease lease, IReadOnlyList<TKey> keys, CancellationToken ct)
    {
        var also = table.RenewAlsoSets is { Length: > 0 } extra ? ", " + extra : "";
        await using var command = dataSource.CreateCommand($"""
            UPDATE {table.Name} SET lease_expires_at = now() + @lease{also}
             WHERE {table.KeyColumn} = ANY(@keys) AND lease_token = @token AND status = 'running'
            RETURNING {table.KeyColumn}
            """);
        command.Parameters.AddWithValue("lease", lease.Duration);
        command.Parameters.AddWithValue("token", lease.Token);
        command.Parameters.AddWithValue("keys", keys.ToArray());
        var held = new List<TKey>(keys.Count);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            held.Add(reader.GetFieldValue<TKey>(0));
        }

        return held;
    }

    /// <summary>Hands items back as if never claimed: the attempt does not count (the infrastructure failed, or the worker stops).</summary>
    public Task ReleaseAsync(Lease lease, IEnumerable<ILeasedItem<TKey>> items, TimeSpan delay, CancellationToken ct) =>
        RequeueAsync(lease, items, countAttempt: false, delay, error: null, ct);

    /// <summary>Queues items again after a failed attempt, with a backoff that grows with their attempts.</summary>
    public async Task RetryLaterAsync(Lease lease, IEnumerable<ILeasedItem<TKey>> items, string error, CancellationToken ct)
    {
        foreach (var group in items.GroupBy(i => i.Attempts))
        {
            var backoff = options.RetryBackoff * Math.Max(1, group.Key);
            await RequeueAsync(lease, group, countAttempt: true, backoff, error, ct);
        }
    }

    private async Task RequeueAsync(Lease lease, IEnumerable<ILeasedItem<TKey>> items, bool countAttempt, TimeSpan delay, string? error, CancellationToken ct)
    {
        var keys = items.Select(i => i.Key).ToArray();
        if (keys.Length == 0)
        {
            return;
        }

        var attempts = countAttempt ? "attempts" : "greatest(attempts - 1, 0)";
        var errorSet = table.ErrorColumn is { Length: > 0 } column && error is not null ? $", {column} = left(@error, 2000)" : "";
        await using var command = dataSource.CreateCommand($"""
            UPDATE {table.Name}
               SET status = 'queued', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
                   attempts = {attempts}, not_before = now() + @delay{errorSet}
             WHERE {table.KeyColumn} = ANY(@keys) AND lease_token = @token AND status = 'running'
            """);
        command.Parameters.AddWithValue("keys", keys);
        command.Parameters.AddWithValue("token", lease.Token);
        command.Parameters.AddWithValue("delay", delay);
        if (errorSet.Length > 0)
        {
            command.Parameters.AddWithValue("error", error!);
        }

        await command.ExecuteNonQueryAsync(ct);
    }
}
