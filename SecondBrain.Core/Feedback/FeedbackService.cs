using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Search.Answers;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Feedback;

public sealed record AnswerFeedbackRequest(string? Rating, string? Comment);

public sealed record GapFeedbackRequest(bool? Useful, string? Comment);

public sealed record FeedbackResponse(Guid Id, string TargetType, Guid TargetId, bool Positive, string? Comment, DateTimeOffset UpdatedAt)
{
    public static FeedbackResponse From(FeedbackEntry f) => new(f.Id, f.TargetType, f.TargetId, f.Positive, f.Comment, f.UpdatedAt);
}

/// <summary>Thumbs up or down on answers, useful or not on gaps: one verdict per person and target, the latest one kept.</summary>
public sealed class FeedbackService(SecondBrainDbContext db, TenantContext tenant, TimeProvider time)
{
    public async Task<Outcome<FeedbackResponse>> RateAnswerAsync(Guid answerId, AnswerFeedbackRequest request, CancellationToken ct)
    {
        var rating = request.Rating?.Trim().ToLowerInvariant();
        if (new Validation()
                .Check(rating is "up" or "down", nameof(request.Rating), "Rating is \"up\" or \"down\".")
                .Check(request.Comment is null || request.Comment.Length <= 2000, nameof(request.Comment), "A comment has at most 2000 characters.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        if (!await db.Answers.AnyAsync(a => a.Id == answerId, ct))
        {
            return ApiProblem.NotFound("The answer");
        }

        return FeedbackResponse.From(await UpsertAsync(FeedbackTargets.Answer, answerId, rating == "up", request.Comment, ct));
    }

    /// <summary>A gap found not useful is dismissed: re-analysis keeps a gap's status, so it is not raised again.</summary>
    public async Task<Outcome<FeedbackResponse>> RateGapAsync(Guid gapId, GapFeedbackRequest request, CancellationToken ct)
    {
        if (new Validation()
                .Check(request.Useful is not null, nameof(request.Useful), "Say whether the gap is useful (true or false).")
                .Check(request.Comment is null || request.Comment.Length <= 2000, nameof(request.Comment), "A comment has at most 2000 characters.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        var gap = await db.KnowledgeGaps.SingleOrDefaultAsync(g => g.Id == gapId, ct);
        if (gap is null)
        {
            return ApiProblem.NotFound("The gap");
        }

        if (request.Useful == false && gap.Status is GapStatuses.Open or GapStatuses.InProgress)
        {
            gap.Status = GapStatuses.Dismissed;
            gap.UpdatedAt = time.GetUtcNow();
        }

        return FeedbackResponse.From(await UpsertAsync(FeedbackTargets.Gap, gapId, request.Useful!.Value, request.Comment, ct));
    }

    private async Task<FeedbackEntry> UpsertAsync(string targetType, Guid targetId, bool positive, string? comment, CancellationToken ct)
    {
        var userId = tenant.UserId!.Value;
        var entry = await db.Feedback.SingleOrDefaultAsync(f => f.UserId == userId && f.TargetType == targetType && f.TargetId == targetId, ct);
        if (entry is null)
        {
            entry = new FeedbackEntry { UserId = userId, TargetType = targetType, TargetId = targetId };
            db.Feedback.Add(entry);
        }

        entry.Positive = positive;
        entry.Comment = string.IsNullOrWhiteSpace(comment) ? null : comment.Trim();
        entry.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return entry;
    }
}
