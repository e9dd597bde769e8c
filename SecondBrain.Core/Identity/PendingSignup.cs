namespace SecondBrain.Core.Identity;

/// <summary>
/// A sign-up waiting for its address to be confirmed: what the person asked for (tenant, name, the password's hash)
/// and the SHA-256 of the token mailed to the address. Not tenant-owned: the tenant exists only once the mailbox's
/// owner follows the link, under the id reserved here (the mail in the outbox already carries it).
/// </summary>
public sealed class PendingSignup
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; } = Guid.CreateVersion7();
    public required string TenantName { get; set; }
    public required string Email { get; set; }
    public required string NormalizedEmail { get; set; }
    public required string DisplayName { get; set; }
    public required string PasswordHash { get; set; }
    public required byte[] TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
}

/// <summary>How sign-up proves that the address is the caller's. Bound from <c>Identity:Signup</c>.</summary>
public sealed class SignupOptions
{
    public const string SectionName = "Identity:Signup";

    /// <summary>
    /// When on (the default), sign-up always answers 202 and mails the address: a link that creates the tenant for a
    /// new address, a "you already have an account" note for a registered one, so no response says who is
    /// registered. Off, sign-up creates the tenant at once and answers 409 for a taken address (for closed
    /// deployments and test stacks).
    /// </summary>
    public bool VerifyEmail { get; set; } = true;

    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:05:00", "7.00:00:00")]
    public TimeSpan VerificationLifetime { get; set; } = TimeSpan.FromHours(24);
}
