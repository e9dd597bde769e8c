using Microsoft.EntityFrameworkCore;
using Npgsql;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Integrations;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Sync;

public sealed record SyncRunResponse(
    Guid Id,
    string Source,
    string Status,
    string? Stage,
    long Found,
    long Processed,
    long Failed,
    long? EstimatedTotal,
    double? Percent,
    double? EtaSeconds,
    string? CurrentItem,
    bool CancelRequested,
    string? ErrorCode,
    string? ErrorDetail,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset UpdatedAt);

public sealed record SyncFailedItemResponse(string ExternalId, string Reason, DateTimeOffset At);

/// <summary>Starting, reading and cancelling runs (the Api side; workers execute them).</summary>
public sealed class SyncRunService(
    SecondBrainDbContext db,
    TenantContext tenant,
    SyncProgress progress,
    IUploadStore uploads,
    TimeProvider time)
{
    public async Task<Outcome<SyncRunResponse>> StartAsync(string source, UploadedFile? file, CancellationToken ct)
    {
        if (!Sources.IsOAuthProvider(source) && !Sources.IsImport(source))
        {
            return new ApiProblem(404, ProblemCodes.UnknownProvider,
                $"'{source}' is not a source. Known: {string.Join(", ", Sources.OAuthProviders.Concat(Sources.Imports))}.");
        }

        var run = new SyncRun { Source = source, Status = SyncRunStatuses.Queued, RequestedByUserId = tenant.UserId };
        if (Sources.IsOAuthProvider(source))
        {
            var connection = await db.Connections.AsNoTracking().SingleOrDefaultAsync(c => c.Provider == source, ct);
            if (connection is null || connection.Status == ConnectionStatuses.Disconnected)
            {
                return new ApiProblem(409, ProblemCodes.NotConnected, $"Connect {source} first (POST /api/integrations/{source}/connect).");
            }

            if (connection.Status == ConnectionStatuses.ReauthRequired)
            {
                return new ApiProblem(409, ProblemCodes.ReauthRequired, $"{source} must be connected again: {connection.LastError}");
            }

            run.ConnectionId = connection.Id;
            run.PreviousSyncState = connection.SyncState;
        }
        else
        {
            if (file is null || file.Length == 0)
            {
                return new ApiProblem(400, ProblemCodes.UploadRequired, "Send the archive as a multipart form file named 'file'.");
            }

            if (await ActiveRunAsync(source, ct) is { } active)
            {
                return AlreadyRunning(source, active);
            }

            await using var stream = file.Open();
            run.UploadId = await uploads.SaveAsync(tenant.TenantId!.Value, file.FileName, file.ContentType, stream, ct);
        }

        db.SyncRuns.Add(run);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            var active = await ActiveRunAsync(source, ct);
            return AlreadyRunning(source, active ?? Guid.Empty);
        }

        await progress.PublishAsync(new SyncProgressSnapshot(run.Id, run.Status, "queued", 0, 0, 0, null, 0, null, null, time.GetUtcNow(), 0));
        await progress.SignalQueuedAsync();
        return ToResponse(run, null);
    }

    public async Task<PagedResult<SyncRunResponse>> ListAsync(PageRequest page, string? source, string? status, CancellationToken ct)
    {
        page = page.Normalized;
        var query = db.SyncRuns.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(source))
        {
            query = query.Where(r => r.Source == source);
        }

        if (!string.IsNullOrWhiteSpace(status))
        {
            query = query.Where(r => r.Status == status);
        }

        var total = await query.LongCountAsync(ct);
        var runs = await query.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Skip(page.Skip).Take(page.PageSize).ToListAsync(ct);
        return new PagedResult<SyncRunResponse>(runs.Select(r => ToResponse(r, null)).ToList(), page.Page, page.PageSize, total);
    }

    public async Task<SyncRunResponse?> GetAsync(Guid id, CancellationToken ct)
    {
        var run = await db.SyncRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, ct);
        return run is null ? null : ToResponse(run, await progress.ReadAsync(id));
    }

    public async Task<Outcome<SyncRunResponse>> CancelAsync(Guid id, CancellationToken ct)
    {
        var run = await db.SyncRuns.SingleOrDefaultAsync(r => r.Id == id, ct);
        if (run is null)
        {
            return ApiProblem.NotFound("The sync run");
        }

        if (SyncRunStatuses.IsFinal(run.Status))
        {
            return new ApiProblem(409, ProblemCodes.RunAlreadyFinished, $"The run already ended as {run.Status}.");
        }

        var now = time.GetUtcNow();
        run.CancelRequested = true;
        run.UpdatedAt = now;
        // A queued run has no worker to notice; end it here. The conditional update loses to a worker that claims it
        // in the same instant, and then that worker sees cancel_requested.
        var endedHere = await db.SyncRuns
            .Where(r => r.Id == id && r.Status == SyncRunStatuses.Queued)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, SyncRunStatuses.Cancelled)
                .SetProperty(r => r.CancelRequested, true)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.UpdatedAt, now), ct) == 1;
        if (!endedHere)
        {
            await db.SyncRuns.Where(r => r.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.CancelRequested, true)
                .SetProperty(r => r.UpdatedAt, now), ct);
        }

        await progress.SignalCancelAsync(id);
        db.ChangeTracker.Clear();
        run = await db.SyncRuns.AsNoTracking().SingleAsync(r => r.Id == id, ct);
        if (endedHere)
        {
            await progress.PublishAsync(new SyncProgressSnapshot(id, run.Status, "cancelled", run.Found, run.Processed, run.Failed, null, null, null,
                run.StartedAt, now, run.PagesCommitted + 1));
        }

        return ToResponse(run, await progress.ReadAsync(id));
    }

    public async Task<PagedResult<SyncFailedItemResponse>?> FailuresAsync(Guid id, PageRequest page, CancellationToken ct)
    {
        if (!await db.SyncRuns.AnyAsync(r => r.Id == id, ct))
        {
            return null;
        }

        page = page.Normalized;
        var query = db.SyncFailedItems.AsNoTracking().Where(f => f.RunId == id);
        var total = await query.LongCountAsync(ct);
        var items = await query.OrderBy(f => f.Id).Skip(page.Skip).Take(page.PageSize)
            .Select(f => new SyncFailedItemResponse(f.ExternalId, f.Reason, f.At)).ToListAsync(ct);
        return new PagedResult<SyncFailedItemResponse>(items, page.Page, page.PageSize, total);
    }

    public async Task<string?> StatusAsync(Guid id, CancellationToken ct) =>
        await db.SyncRuns.AsNoTracking().Where(r => r.Id == id).Select(r => r.Status).SingleOrDefaultAsync(ct);

    private async Task<Guid?> ActiveRunAsync(string source, CancellationToken ct) =>
        await db.SyncRuns.AsNoTracking()
            .Where(r => r.Source == source && (r.Status == SyncRunStatuses.Queued || r.Status == SyncRunStatuses.Running))
            .Select(r => (Guid?)r.Id)
            .FirstOrDefaultAsync(ct);

    private static ApiProblem AlreadyRunning(string source, Guid activeRunId) =>
        new(409, ProblemCodes.SyncAlreadyRunning, $"A {source} run is already active: {activeRunId}.")
        {
            Extensions = new Dictionary<string, object?> { ["activeRunId"] = activeRunId }
        };

    /// <summary>The durable row, with the live figures from Redis where they are newer.</summary>
    public static SyncRunResponse ToResponse(SyncRun run, SyncProgressSnapshot? live)
    {
        var useLive = live is not null && !SyncRunStatuses.IsFinal(run.Status) && live.Processed >= run.Processed;
        double? percent = run.Status == SyncRunStatuses.Succeeded ? 100
            : useLive ? live!.Percent
            : run.EstimatedTotal is > 0 ? Math.Min(99.0, 100.0 * (run.Processed + run.Failed) / run.EstimatedTotal.Value) : null;
        return new SyncRunResponse(
            run.Id, run.Source, run.Status,
            useLive ? live!.Stage ?? run.Stage : run.Stage,
            useLive ? Math.Max(live!.Found, run.Found) : run.Found,
            useLive ? live!.Processed : run.Processed,
            useLive ? Math.Max(live!.Failed, run.Failed) : run.Failed,
            run.EstimatedTotal,
            percent,
            useLive ? live!.EtaSeconds : null,
            useLive ? live!.CurrentItem : null,
            run.CancelRequested, run.ErrorCode, run.ErrorDetail, run.Attempts,
            run.CreatedAt, run.StartedAt, run.FinishedAt, run.UpdatedAt);
    }
}

/// <summary>An uploaded file, independent of ASP.NET's IFormFile so Core does not depend on the HTTP layer's types.</summary>
public sealed record UploadedFile(string FileName, string ContentType, long Length, Func<Stream> Open);
