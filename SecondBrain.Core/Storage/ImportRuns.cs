using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Data;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Storage;

/// <summary>Which import runs may still read their staged archive (<see cref="StagedImport"/>).</summary>
public interface IImportRuns
{
    /// <summary>Those of <paramref name="runIds"/> that are queued or running.</summary>
    Task<IReadOnlySet<Guid>> ActiveAsync(IReadOnlyCollection<Guid> runIds, CancellationToken cancellationToken);
}

/// <summary>The answer from <c>sync_runs</c> (through the tenant filter).</summary>
public sealed class SyncImportRuns(SecondBrainDbContext db) : IImportRuns
{
    public async Task<IReadOnlySet<Guid>> ActiveAsync(IReadOnlyCollection<Guid> runIds, CancellationToken cancellationToken)
    {
        var ids = runIds.ToList();
        var active = await db.SyncRuns.AsNoTracking()
            .Where(r => ids.Contains(r.Id) && (r.Status == SyncRunStatuses.Queued || r.Status == SyncRunStatuses.Running))
            .Select(r => r.Id)
            .ToListAsync(cancellationToken);
        return active.ToHashSet();
    }
}
