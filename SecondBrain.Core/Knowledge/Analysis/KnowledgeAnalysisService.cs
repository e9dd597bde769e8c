using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Tenancy;
using SecondBrain.Core.Work;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>An analysis run as the API shows it: the same shape of status, stage, counts and times as a sync run.</summary>
public sealed record KnowledgeAnalysisRunResponse(
    Guid Id,
    string Status,
    string Trigger,
    string? Stage,
    int DocumentsExamined,
    int GapsOpened,
    int GapsUpdated,
    int GapsResolved,
    string? ErrorCode,
    string? ErrorDetail,
    int Attempts,
    DateTimeOffset? Since,
    DateTimeOffset? Watermark,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset UpdatedAt)
{
    public static KnowledgeAnalysisRunResponse From(KnowledgeAnalysisRun run) => new(
        run.Id, run.Status, run.Trigger, run.Stage, run.DocumentsExamined, run.GapsOpened, run.GapsUpdated, run.GapsResolved,
        run.ErrorCode, run.ErrorDetail, run.Attempts, run.Since, run.Watermark, run.CreatedAt, run.StartedAt, run.FinishedAt, run.UpdatedAt);
}

public static class AnalysisTriggers
{
    public const string Api = "api";
    public const string IngestionSettled = "ingestion_settled";
}

/// <summary>
/// Starting and reading tenant analyses (the Api side; workers execute them). Starting is idempotent: the partial
/// unique index allows one queued or running run per tenant, so a second request — on any instance, at the same
/// moment — gets the run already under way instead of a second one.
/// </summary>
public sealed class KnowledgeAnalysisService(
    SecondBrainDbContext db,
    TenantContext tenant,
    WorkSignals signals)
{
    public async Task<KnowledgeAnalysisRunResponse> StartAsync(CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (await ActiveAsync(ct) is { } active)
            {
                return KnowledgeAnalysisRunResponse.From(active);
            }

            var run = new KnowledgeAnalysisRun { Status = AnalysisRunStatuses.Queued, Trigger = AnalysisTriggers.Api, RequestedByUserId = tenant.UserId };
            db.KnowledgeAnalysisRuns.Add(run);
            try
            {
                await db.SaveChangesAsync(ct);
                await signals.WakeAsync(WorkQueues.Analysis);
                return KnowledgeAnalysisRunResponse.From(run);
            }
            catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } && attempt < 3)
            {
                // Another instance queued one in the same instant: join it (the loop reads it back).
                db.ChangeTracker.Clear();
            }
        }
    }

    public async Task<PagedResult<KnowledgeAnalysisRunResponse>> ListAsync(PageRequest page, string? status, CancellationToken ct)
    {
        page = page.Normalized;
        var query = db.KnowledgeAnalysisRuns.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(status))
        {
            query = query.Where(r => r.Status == status);
        }

        var total = await query.LongCountAsync(ct);
        var runs = await query.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Skip(page.Skip).Take(page.PageSize).ToListAsync(ct);
        return new PagedResult<KnowledgeAnalysisRunResponse>(runs.Select(KnowledgeAnalysisRunResponse.From).ToList(), page.Page, page.PageSize, total);
    }

    public async Task<KnowledgeAnalysisRunResponse?> GetAsync(Guid id, CancellationToken ct) =>
        await db.KnowledgeAnalysisRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, ct) is { } run
            ? KnowledgeAnalysisRunResponse.From(run)
            : null;

    public static ApiProblem RunNotFound => ApiProblem.NotFound("The analysis run");

    private Task<KnowledgeAnalysisRun?> ActiveAsync(CancellationToken ct) =>
        db.KnowledgeAnalysisRuns.AsNoTracking()
            .Where(r => r.Status == AnalysisRunStatuses.Queued || r.Status == AnalysisRunStatuses.Running)
            .OrderBy(r => r.CreatedAt)
            .FirstOrDefaultAsync(ct);
}
