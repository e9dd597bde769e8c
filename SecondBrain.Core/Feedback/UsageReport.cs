using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Data;
using SecondBrain.Core.Search.Answers;

namespace SecondBrain.Core.Feedback;

public sealed record DailyQuestions(DateOnly Day, int Questions, int Unanswered);

public sealed record QueryCount(string Question, int Count);

public sealed record FeedbackRatio(int Positive, int Negative, double? PositiveShare);

public sealed record UsageResponse(
    int Days,
    int Questions,
    IReadOnlyList<DailyQuestions> PerDay,
    IReadOnlyList<QueryCount> TopQuestions,
    IReadOnlyList<QueryCount> Unanswered,
    FeedbackRatio Answers,
    FeedbackRatio Gaps);

/// <summary>How the tenant uses its knowledge base: questions per day, what found nothing, what people thought of answers and gaps.</summary>
public sealed class UsageReport(SecondBrainDbContext db, TimeProvider time)
{
    public async Task<UsageResponse> BuildAsync(int days, CancellationToken ct)
    {
        days = Math.Clamp(days, 1, 365);
        var since = time.GetUtcNow().AddDays(-days);
        var answers = db.Answers.AsNoTracking().Where(a => a.CreatedAt >= since);

        var perDay = (await answers
                .GroupBy(a => a.CreatedAt.Date)
                .Select(g => new { Day = g.Key, Questions = g.Count(), Unanswered = g.Count(a => a.Mode == AnswerModes.NoAnswer || a.CitationCount == 0) })
                .ToListAsync(ct))
            .OrderBy(d => d.Day)
            .Select(d => new DailyQuestions(DateOnly.FromDateTime(d.Day), d.Questions, d.Unanswered))
            .ToList();
        var top = await answers.GroupBy(a => a.Question.ToLower()).Select(g => new QueryCount(g.Key, g.Count()))
            .OrderByDescending(q => q.Count).ThenBy(q => q.Question).Take(20).ToListAsync(ct);
        var unanswered = await answers.Where(a => a.Mode == AnswerModes.NoAnswer || a.CitationCount == 0)
            .GroupBy(a => a.Question.ToLower()).Select(g => new QueryCount(g.Key, g.Count()))
            .OrderByDescending(q => q.Count).ThenBy(q => q.Question).Take(20).ToListAsync(ct);

        return new UsageResponse(days, perDay.Sum(d => d.Questions), perDay, top, unanswered,
            await RatioAsync(FeedbackTargets.Answer, since, ct), await RatioAsync(FeedbackTargets.Gap, since, ct));
    }

    public async Task<FeedbackRatio> RatioAsync(string target, DateTimeOffset? since, CancellationToken ct)
    {
        var feedback = db.Feedback.AsNoTracking().Where(f => f.TargetType == target && (since == null || f.UpdatedAt >= since));
        var positive = await feedback.CountAsync(f => f.Positive, ct);
        var negative = await feedback.CountAsync(f => !f.Positive, ct);
        return new FeedbackRatio(positive, negative, positive + negative == 0 ? null : Math.Round(positive / (double)(positive + negative), 3));
    }
}
