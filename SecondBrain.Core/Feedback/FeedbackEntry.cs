using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Feedback;

public static class FeedbackTargets
{
    /// <summary>An answer (from ask or a conversation): thumbs up or down.</summary>
    public const string Answer = "answer";

    /// <summary>A knowledge gap: useful or not.</summary>
    public const string Gap = "gap";
}

/// <summary>One person's verdict on an answer or a gap (one per person and target: giving it again replaces it).</summary>
public sealed class FeedbackEntry : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public Guid UserId { get; set; }
    public required string TargetType { get; set; }
    public Guid TargetId { get; set; }
    public bool Positive { get; set; }
    public string? Comment { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
}
