using System.Collections.Concurrent;

namespace SecondBrain.Worker.Work;

/// <summary>
/// The items of one claim while they are worked on: which are still pending, which are done (completed, given up
/// or handed back) and whether the lease was lost. Lives for one batch; holds no tenant data beyond its items.
/// </summary>
public sealed class WorkBatch<TItem, TKey> where TItem : class, ILeasedItem<TKey> where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, TItem> _pending;
    private readonly ConcurrentDictionary<TKey, byte> _lost = new();
    private readonly LeaseRows<TKey> _rows;

    internal WorkBatch(Lease lease, IReadOnlyList<TItem> items, LeaseRows<TKey> rows, CancellationTokenSource cancellation)
    {
        Lease = lease;
        Items = items;
        _rows = rows;
        Cancellation = cancellation;
        _pending = new ConcurrentDictionary<TKey, TItem>(items.Select(i => KeyValuePair.Create(i.Key, i)));
    }

    public Lease Lease { get; }

    public IReadOnlyList<TItem> Items { get; }

    internal CancellationTokenSource Cancellation { get; }

    /// <summary>Items not yet completed, given up or handed back, in claim order.</summary>
    public IReadOnlyList<TItem> Pending => Items.Where(i => _pending.ContainsKey(i.Key)).ToList();

    /// <summary>True when another worker took over the lease of every pending item.</summary>
    public bool LeaseLost { get; private set; }

    public bool IsLost(TItem item) => _lost.ContainsKey(item.Key);

    /// <summary>The item's completing write committed (or it needed none): nothing more to renew or hand back.</summary>
    public void Complete(TItem item) => _pending.TryRemove(item.Key, out _);

    /// <summary>
    /// The work failed for this item alone (a bad item, not the infrastructure): the attempt counts and the item is
    /// queued again after a backoff; the rest of the batch goes on.
    /// </summary>
    public async Task RetryLaterAsync(TItem item, Exception error, CancellationToken ct)
    {
        await _rows.RetryLaterAsync(Lease, [item], error.GetBaseException().Message, ct);
        Complete(item);
    }

    /// <summary>Hands the item back without counting an attempt (it could not be worked on now, through nobody's fault).</summary>
    public async Task ReleaseAsync(TItem item, TimeSpan delay, CancellationToken ct)
    {
        await _rows.ReleaseAsync(Lease, [item], delay, ct);
        Complete(item);
    }

    internal void MarkLost(IEnumerable<TKey> keys)
    {
        foreach (var key in keys)
        {
            if (_pending.ContainsKey(key))
            {
                _lost[key] = 0;
            }
        }

        if (!_pending.IsEmpty && _pending.Keys.All(_lost.ContainsKey))
        {
            LeaseLost = true;
            Cancellation.Cancel();
        }
    }
}
