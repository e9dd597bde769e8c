using System.Diagnostics;
using Npgsql;

namespace SecondBrain.Worker.Work;

/// <summary>How one queue is leased: the same knobs for every queue, each bound from that queue's settings.</summary>
public sealed record LeasedWorkOptions
{
    /// <summary>How long a claim is held without renewal; a worker that dies loses its work to another after this.</summary>
    public required TimeSpan LeaseDuration { get; init; }

    /// <summary>How often a held lease is renewed while the work runs (at least three renewals fit in a lease).</summary>
    public required TimeSpan RenewInterval { get; init; }

    /// <summary>How often an idle worker looks for work when no wake-up signal arrives.</summary>
    public required TimeSpan PollInterval { get; init; }

    /// <summary>Attempts (claims that ended in a failure of the work itself) before an item ends failed.</summary>
    public required int MaxAttempts { get; init; }

    /// <summary>Wait before a failed item is tried again, times its attempts so far.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Wait before work handed back for an infrastructure failure is claimed again.</summary>
    public TimeSpan InfrastructureBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Items per claim.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Batches this worker runs at once.</summary>
    public int Concurrency { get; init; } = 1;
}

/// <summary>A claimed row of a queue table: its key and how many claims of it have failed so far (this one included).</summary>
public interface ILeasedItem<out TKey>
{
    TKey Key { get; }
    int Attempts { get; }
}

/// <summary>
/// A queue table's leasing columns. Every queue table has <c>status</c> ('queued', 'running', then its own final
/// states), <c>lease_owner</c>, <c>lease_token</c>, <c>lease_expires_at</c>, <c>attempts</c> and <c>not_before</c>.
/// </summary>
/// <param name="ErrorColumn">Where the reason of a failed attempt goes, if the table keeps one.</param>
/// <param name="RenewAlsoSets">Extra assignments on renewal (e.g. a heartbeat column).</param>
public sealed record LeaseTable(string Name, string KeyColumn, string? ErrorColumn = null, string? RenewAlsoSets = null);

/// <summary>One claim: a token new to it, so the write that completes the work can check it still holds the row.</summary>
public sealed record Lease(Guid Token, string Owner, TimeSpan Duration);

/// <summary>
/// A durable queue served by <see cref="LeasedWorkProcessor{TQueue, TItem, TKey}"/>: it keeps only what is its
/// own (the claim SQL, the work, and what "given up" means for an item); claiming, renewing, handing back, backoff,
/// wake-ups and the split between a bad item and an infrastructure failure belong to the runtime.
/// </summary>
public abstract class LeasedQueue<TItem, TKey> where TItem : class, ILeasedItem<TKey> where TKey : notnull
{
    public abstract string Name { get; }

    public abstract LeaseTable Table { get; }

    public abstract LeasedWorkOptions Options { get; }

    /// <summary>The capability's ActivitySource: the runtime opens each batch's span on it.</summary>
    public abstract ActivitySource ActivitySource { get; }

    /// <summary>
    /// Claims up to <see cref="LeasedWorkOptions.BatchSize"/> rows with FOR UPDATE SKIP LOCKED, setting status
    /// 'running', <c>lease_owner = @owner</c>, <c>lease_token = @token</c>, <c>lease_expires_at = now() + @lease</c>
    /// and <c>attempts = attempts + 1</c>, on rows that are queued and due (<c>not_before</c> passed) or running with
    /// an expired lease. <see cref="ClaimCommand"/> binds those parameters.
    /// </summary>
    public abstract Task<IReadOnlyList<TItem>> ClaimAsync(NpgsqlConnection connection, Lease lease, CancellationToken ct);

    /// <summary>
    /// The work. The batch's token is cancelled when the lease is lost or the worker stops. Completing writes are
    /// fenced (they check <see cref="Lease.Token"/> in their transaction) and mark their item with
    /// <see cref="WorkBatch{TItem, TKey}.Complete"/>. An exception fails the items still pending: an infrastructure
    /// failure hands them back without counting the attempt, anything else counts it.
    /// </summary>
    public abstract Task ProcessAsync(WorkBatch<TItem, TKey> batch, CancellationToken ct);

    /// <summary>Ends an item that failed <see cref="LeasedWorkOptions.MaxAttempts"/> times, with a reason the user can read.</summary>
    public abstract Task GiveUpAsync(WorkBatch<TItem, TKey> batch, TItem item, string reason, CancellationToken ct);

    /// <summary>Runs before each claim (e.g. queueing work that is due); an exception here is treated like a failed claim.</summary>
    public virtual Task BeforeClaimAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>Runs after each successful renewal of a batch's lease (e.g. checking for a cancel request).</summary>
    public virtual Task OnRenewedAsync(WorkBatch<TItem, TKey> batch, CancellationToken ct) => Task.CompletedTask;

    /// <summary>A claim command with the runtime's parameters bound: @owner, @token, @lease and @batch.</summary>
    protected NpgsqlCommand ClaimCommand(NpgsqlConnection connection, Lease lease, string sql)
    {
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("owner", lease.Owner);
        command.Parameters.AddWithValue("token", lease.Token);
        command.Parameters.AddWithValue("lease", lease.Duration);
        command.Parameters.AddWithValue("batch", Options.BatchSize);
        return command;
    }
}
