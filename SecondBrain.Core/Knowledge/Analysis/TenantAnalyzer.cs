using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Data;
using SecondBrain.Core.Knowledge.Graph;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// One tenant's analysis: which documents changed since the previous run, then every gap detector in turn, each
/// upserting its gaps and resolving the ones it re-examined but no longer finds. The Worker's processor leases the
/// run and calls this; nothing here knows about leases.
/// </summary>
public sealed class TenantAnalyzer(
    SecondBrainDbContext db,
    IOptions<KnowledgeAnalysisOptions> options,
    IEnumerable<IGapDetector> detectors,
    IServiceProvider services,
    ILogger<TenantAnalyzer> logger)
{
    /// <summary>
    /// One run: the changed documents are those extracted after the previous successful run's watermark (less an
    /// overlap for late commits); the detectors run one after another, each upserting its gaps and resolving the
    /// ones it re-examined but no longer finds.
    /// </summary>
    public async Task AnalyzeAsync(KnowledgeAnalysisRun run, Func<string, CancellationToken, Task> reportStage, CancellationToken ct)
    {
        var settings = options.Value;
        var previous = await db.KnowledgeAnalysisRuns.AsNoTracking()
            .Where(r => r.Status == AnalysisRunStatuses.Succeeded && r.Watermark != null)
            .OrderByDescending(r => r.Watermark)
            .Select(r => r.Watermark)
            .FirstOrDefaultAsync(ct);
        // Read before detecting: whatever is extracted while the run works is newer, and the next run sees it.
        var watermark = await db.DocumentKnowledge.AsNoTracking()
            .Where(k => k.Status == DocumentKnowledgeStatuses.Extracted)
            .MaxAsync(k => k.ExtractedAt, ct);
        var since = previous is { } p ? p - settings.WatermarkOverlap : (DateTimeOffset?)null;

        var dead = await new GapResolver(new AnalysisQueries(db, settings, new AnalysisScope(run.TenantId, since, []))).DeadEvidenceAsync(ct);
        var extra = dead.SelectMany(d => d.LiveDocuments).Distinct().Take(2000).ToList();
        var queries = new AnalysisQueries(db, settings, new AnalysisScope(run.TenantId, since, extra));
        var resolver = new GapResolver(queries);
        var store = ActivatorUtilities.CreateInstance<GapStore>(services);
        var verifier = services.GetService<IGapVerifier>();

        run.Since = since;
        run.Watermark = watermark;
        run.DocumentsExamined = await resolver.CountChangedAsync(ct);

        // One person, one entity, before anything counts them; then the known names found where documents use them.
        await reportStage("entities", ct);
        if (await new EntityConsolidation(queries).ConsolidateAsync(ct) > 0 && services.GetService<AliasCache>() is { } aliases)
        {
            await aliases.InvalidateAsync(run.TenantId);
        }

        if (services.GetService<LlmEntityTypeVerifier>() is { } typeVerifier)
        {
            await typeVerifier.VerifyAsync(queries, ct);
        }

        await new MentionCompletion(queries).CompleteAsync(ct);
        await new RelationCompletion(queries).CompleteAsync(ct);
        await reportStage("detecting", ct);

        var found = new List<string>();
        foreach (var detector in detectors)
        {
            await reportStage(detector.Type, ct);
            var (result, scopeSql) = await detector.DetectAsync(queries, ct);
            if (verifier is not null)
            {
                result = await verifier.VerifyAsync(result, ct);
            }

            if (detector.LinksEntities)
            {
                result = await queries.LinkEntitiesAsync(result, ct);
            }

            var (opened, updated) = await store.UpsertAsync(run.Id, result.Candidates, ct);
            run.GapsOpened += opened;
            run.GapsUpdated += updated;
            var fingerprints = result.Candidates.Select(c => c.Fingerprint).ToList();
            found.AddRange(fingerprints);
            if (result.Capped)
            {
                // Candidates were cut at the cap: an open gap beyond it is not "no longer found".
                logger.LogInformation("Analysis {RunId}: {Type} hit the cap of {Cap} candidates", run.Id, result.Type, settings.MaxCandidatesPerType);
                continue;
            }

            run.GapsResolved += scopeSql is null
                ? await resolver.ResolveChangedDocumentsAsync(result.Type, run.Id, fingerprints, ct)
                : await resolver.ResolveScopeAsync(result.Type, scopeSql, run.Id, fingerprints, ct);
        }

        run.GapsResolved += await resolver.ResolveDeadAsync(dead.Select(d => d.Fingerprint).ToList(), run.Id, found, ct);
    }
}
