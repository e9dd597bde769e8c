using SecondBrain.Core.Feedback;
using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Knowledge.Analysis;
using SecondBrain.Core.Knowledge.Graph;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Knowledge.Gaps;

public sealed record GapAnswerResponse(Guid Id, Guid GapId, string Text, Guid DocumentId, Guid? AuthorUserId, DateTimeOffset CreatedAt);

/// <summary>A gap as the API shows it; <see cref="Answers"/> only on the single-gap read.</summary>
public sealed record GapResponse(
    Guid Id,
    string Type,
    string Title,
    string Description,
    string Status,
    int Priority,
    double Confidence,
    IReadOnlyList<GapEvidence> Evidence,
    IReadOnlyList<EntityRef> Entities,
    IReadOnlyList<string> Questions,
    bool Resolved,
    int TimesDetected,
    Guid? AnswerDocumentId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<GapAnswerResponse>? Answers = null);

public sealed record GapQuery(string? Type, string? Status, Guid? Entity, int? MinPriority, bool IncludeResolved = false);

public sealed record UpdateGapRequest(string? Status);

public sealed record AnswerGapRequest(string? Text);

public sealed record AnswerGapResponse(GapAnswerResponse Answer, GapResponse Gap);

public sealed record KnowledgeStatsResponse(
    long Entities,
    IReadOnlyDictionary<string, long> EntitiesByType,
    long OpenGaps,
    IReadOnlyDictionary<string, long> GapsByType,
    IReadOnlyDictionary<string, long> GapsByStatus,
    long GapsResolved,
    long DocumentsExtracted,
    long DocumentsQueued,
    long DocumentsFailed,
    KnowledgeAnalysisRunResponse? LastRun,
    FeedbackCounts Feedback);

/// <summary>What people said about answers (thumbs up or down) and gaps (useful or not), over the tenant's lifetime.</summary>
public sealed record FeedbackCounts(long AnswersUp, long AnswersDown, long GapsUseful, long GapsNotUseful);

/// <summary>
/// Reading, triaging and answering gaps (the Api side). An answer is stored and also becomes a document ingested
/// like any other, so search and ask find what the team answered; the gap is then "answered".
/// </summary>
public sealed class GapService(SecondBrainDbContext db, TenantContext tenant, DocumentService documents, TimeProvider time)
{
    public const int MaxAnswerLength = 20_000;

    public async Task<Outcome<PagedResult<GapResponse>>> ListAsync(GapQuery query, PageRequest page, CancellationToken ct)
    {
        if (new Validation()
                .Check(query.Type is null || GapTypes.All.Contains(query.Type), "type", $"Unknown gap type. Known: {string.Join(", ", GapTypes.All)}.")
                .Check(query.Status is null || GapStatuses.All.Contains(query.Status), "status", $"Unknown status. Known: {string.Join(", ", GapStatuses.All)}.")
                .Check(query.MinPriority is null or (>= 1 and <= 5), "minPriority", "minPriority must be between 1 and 5.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        page = page.Normalized;
        var gaps = db.KnowledgeGaps.AsNoTracking();
        if (!query.IncludeResolved)
        {
            gaps = gaps.Where(g => !g.Resolved);
        }

        if (query.Type is { } type)
        {
            gaps = gaps.Where(g => g.Type == type);
        }

        if (query.Status is { } status)
        {
            gaps = gaps.Where(g => g.Status == status);
        }

        if (query.Entity is { } entity)
        {
            gaps = gaps.Where(g => g.EntityIds.Contains(entity));
        }

        if (query.MinPriority is { } minPriority)
        {
            gaps = gaps.Where(g => g.Priority >= minPriority);
        }

        var total = await gaps.LongCountAsync(ct);
        var items = await gaps
            .OrderByDescending(g => g.Priority).ThenByDescending(g => g.Confidence).ThenBy(g => g.CreatedAt).ThenBy(g => g.Id)
            .Skip(page.Skip).Take(page.PageSize)
            .ToListAsync(ct);
        var entities = await EntitiesAsync(items.SelectMany(g => g.EntityIds), ct);
        return new PagedResult<GapResponse>(items.Select(g => ToResponse(g, entities, null)).ToList(), page.Page, page.PageSize, total);
    }

    public async Task<GapResponse?> GetAsync(Guid id, CancellationToken ct)
    {
        var gap = await db.KnowledgeGaps.AsNoTracking().SingleOrDefaultAsync(g => g.Id == id, ct);
        if (gap is null)
        {
            return null;
        }

        var answers = await db.GapAnswers.AsNoTracking().Where(a => a.GapId == id).OrderBy(a => a.CreatedAt)
            .Select(a => new GapAnswerResponse(a.Id, a.GapId, a.Text, a.DocumentId, a.AuthorUserId, a.CreatedAt))
            .ToListAsync(ct);
        return ToResponse(gap, await EntitiesAsync(gap.EntityIds, ct), answers);
    }

    /// <summary>Triage: any of the statuses may follow any other (a dismissed gap can be reopened).</summary>
    public async Task<Outcome<GapResponse>> UpdateStatusAsync(Guid id, UpdateGapRequest request, CancellationToken ct)
    {
        if (new Validation()
                .Require(nameof(request.Status), request.Status, 20)
                .Check(request.Status is null || GapStatuses.All.Contains(request.Status), nameof(request.Status),
                    $"Unknown status. Known: {string.Join(", ", GapStatuses.All)}.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        var now = time.GetUtcNow();
        var updated = await db.KnowledgeGaps.Where(g => g.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(g => g.Status, request.Status!).SetProperty(g => g.UpdatedAt, now), ct);
        if (updated == 0)
        {
            return GapNotFound;
        }

        return (await GetAsync(id, ct))!;
    }

    /// <summary>
    /// Stores the answer and ingests it as a document (source "gap-answer", titled by the gap, with its question),
    /// both in one transaction with the gap turning "answered".
    /// </summary>
    public async Task<Outcome<AnswerGapResponse>> AnswerAsync(Guid id, AnswerGapRequest request, CancellationToken ct)
    {
        if (new Validation().Require(nameof(request.Text), request.Text, MaxAnswerLength).ToProblem() is { } invalid)
        {
            return invalid;
        }

        var gap = await db.KnowledgeGaps.SingleOrDefaultAsync(g => g.Id == id, ct);
        if (gap is null)
        {
            return GapNotFound;
        }

        var text = request.Text!.Trim();
        var author = tenant.UserId is { } userId
            ? await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.DisplayName + " <" + u.Email + ">").FirstOrDefaultAsync(ct)
            : null;
        var question = gap.Questions.FirstOrDefault() ?? gap.Title;
        var body = $"{gap.Title}\n\nQuestion: {question}\n\nAnswer: {text}\n";
        var now = time.GetUtcNow();
        var documentId = documents.Add(
            $"Answer: {gap.Title}", "text/plain", body, null, author, now,
            new Dictionary<string, string> { ["gapId"] = gap.Id.ToString(), ["gapType"] = gap.Type },
            AnalysisQueries.AnswerSource);
        var answer = new GapAnswer { GapId = gap.Id, Text = text, AuthorUserId = tenant.UserId, DocumentId = documentId, CreatedAt = now };
        db.GapAnswers.Add(answer);
        gap.Status = GapStatuses.Answered;
        gap.AnswerDocumentId = documentId;
        gap.UpdatedAt = now;
        await db.SaveChangesAsync(ct);

        var response = new GapAnswerResponse(answer.Id, gap.Id, answer.Text, documentId, answer.AuthorUserId, answer.CreatedAt);
        return new AnswerGapResponse(response, (await GetAsync(id, ct))!);
    }

    public async Task<KnowledgeStatsResponse> StatsAsync(CancellationToken ct)
    {
        var entities = await db.KnowledgeEntities.AsNoTracking().GroupBy(e => e.Type)
            .Select(g => new { g.Key, Count = g.LongCount() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var byType = await db.KnowledgeGaps.AsNoTracking().Where(g => !g.Resolved).GroupBy(g => g.Type)
            .Select(g => new { g.Key, Count = g.LongCount() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var byStatus = await db.KnowledgeGaps.AsNoTracking().Where(g => !g.Resolved).GroupBy(g => g.Status)
            .Select(g => new { g.Key, Count = g.LongCount() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var resolved = await db.KnowledgeGaps.AsNoTracking().LongCountAsync(g => g.Resolved, ct);
        var knowledge = await db.DocumentKnowledge.AsNoTracking().GroupBy(k => k.Status)
            .Select(g => new { g.Key, Count = g.LongCount() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var lastRun = await db.KnowledgeAnalysisRuns.AsNoTracking().OrderByDescending(r => r.CreatedAt).FirstOrDefaultAsync(ct);
        var feedback = await db.Feedback.AsNoTracking().GroupBy(f => new { f.TargetType, f.Positive })
            .Select(g => new { g.Key.TargetType, g.Key.Positive, Count = g.LongCount() }).ToListAsync(ct);
        long Feedback(string target, bool positive) =>
            feedback.Where(f => f.TargetType == target && f.Positive == positive).Sum(f => f.Count);

        // Every known type and status is listed, with 0 where there is none, so clients need not guess the keys.
        return new KnowledgeStatsResponse(
            entities.Values.Sum(),
            Complete(entities, EntityTypes.All),
            byType.Values.Sum(),
            Complete(byType, GapTypes.All),
            Complete(byStatus, GapStatuses.All),
            resolved,
            knowledge.GetValueOrDefault(DocumentKnowledgeStatuses.Extracted),
            knowledge.GetValueOrDefault(DocumentKnowledgeStatuses.Queued) + knowledge.GetValueOrDefault(DocumentKnowledgeStatuses.Running),
            knowledge.GetValueOrDefault(DocumentKnowledgeStatuses.Failed),
            lastRun is null ? null : KnowledgeAnalysisRunResponse.From(lastRun),
            new FeedbackCounts(
                Feedback(FeedbackTargets.Answer, true), Feedback(FeedbackTargets.Answer, false),
                Feedback(FeedbackTargets.Gap, true), Feedback(FeedbackTargets.Gap, false)));
    }

    public static ApiProblem GapNotFound => ApiProblem.NotFound("The knowledge gap");

    private static Dictionary<string, long> Complete(Dictionary<string, long> counts, IEnumerable<string> keys)
    {
        var result = keys.ToDictionary(k => k, k => counts.GetValueOrDefault(k), StringComparer.Ordinal);
        foreach (var (key, count) in counts)
        {
            result.TryAdd(key, count);
        }

        return result;
    }

    private async Task<Dictionary<Guid, EntityRef>> EntitiesAsync(IEnumerable<Guid> ids, CancellationToken ct)
    {
        var distinct = ids.Distinct().ToList();
        if (distinct.Count == 0)
        {
            return [];
        }

        return await db.KnowledgeEntities.AsNoTracking().Where(e => distinct.Contains(e.Id))
            .Select(e => new EntityRef(e.Id, e.Type, e.Name)).ToDictionaryAsync(e => e.Id, ct);
    }

    /// <summary>Entities merged or deleted since the analysis simply drop out of the list.</summary>
    private static GapResponse ToResponse(KnowledgeGap gap, Dictionary<Guid, EntityRef> entities, IReadOnlyList<GapAnswerResponse>? answers) => new(
        gap.Id, gap.Type, gap.Title, gap.Description, gap.Status, gap.Priority, gap.Confidence, gap.Evidence,
        gap.EntityIds.Select(id => entities.GetValueOrDefault(id)).OfType<EntityRef>().ToList(),
        gap.Questions, gap.Resolved, gap.TimesDetected, gap.AnswerDocumentId, gap.CreatedAt, gap.UpdatedAt, answers);
}
