using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Mail;

public static class OutgoingMailStatuses
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Sent = "sent";
    public const string Failed = "failed";
}

/// <summary>
/// A mail waiting in the outbox: written in the same unit of work as what it announces, sent by a Worker on the
/// leased-work runtime, so a mail server that is down delays it and loses nothing. The body is protected with Data
/// Protection at rest (it may carry a single-use link).
/// </summary>
public sealed class OutgoingMail : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public required string ToAddress { get; set; }
    public required string Subject { get; set; }
    public required string ProtectedBody { get; set; }
    public string Status { get; set; } = OutgoingMailStatuses.Queued;
    public DateTimeOffset QueuedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? SentAt { get; set; }
    public string? Error { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset? NotBefore { get; set; }
    public string? LeaseOwner { get; set; }
    public Guid? LeaseToken { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }
}
