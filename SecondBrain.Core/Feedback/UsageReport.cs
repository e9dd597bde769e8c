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

        var perDay = new List<DailyQuestions>();
        await using (var command = await db.TenantCommandAsync("""
            SELECT (created_at AT TIME ZONE 'UTC')::date, count(*)::int,
                   count(*) FILTER (WHERE mode = @none OR citation_count = 0)::int
              FROM answers
             WHERE tenant_id = @tenant AND created_at >= @since
             GROUP BY 1 ORDER BY 1
            """, ct))
        {
            command.With("none", AnswerModes.NoAnswer).With("since", since);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                perDay.Add(new DailyQuestions(DateOnly.FromDateTime(reader.GetDateTime(0)), reader.GetInt32(1), reader.GetInt32(2)));
            }
        }

        var top = (await answers.GroupBy(a => a.Question.ToLower()).Select(g => new { Question = g.Key, Count = g.Count() })
                .OrderByDescending(q => q.Count).ThenBy(q => q.Question).Take(20).ToListAsync(ct))
            .Select(q => new QueryCount(q.Question, q.Count)).ToList();
        var unanswered = (await answers.Where(a => a.Mode == AnswerModes.NoAnswer || a.CitationCount == 0)
                .GroupBy(a => a.Question.ToLower()).Select(g => new { Question = g.Key, Count = g.Count() })
                .OrderByDescending(q => q.Count).ThenBy(q => q.Question).Take(20).ToListAsync(ct))
            .Select(q => new QueryCount(q.Question, q.Count)).ToList();

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
