using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Auditing;

/// <summary>An append-only record of a security-relevant action within a tenant.</summary>
public sealed class AuditEntry : ITenantOwned
{
    public long Id { get; set; }
    public Guid TenantId { get; set; }
    public DateTimeOffset At { get; set; } = DateTimeOffset.UtcNow;
    public Guid? ActorUserId { get; set; }
    public required string Action { get; set; }
    public string? Target { get; set; }
    public string? Detail { get; set; }
    public string? InstanceId { get; set; }
}

public static class AuditActions
{
    public const string TenantCreated = "tenant.created";
    public const string UserCreated = "user.created";
    public const string LoginSucceeded = "auth.login_succeeded";
    public const string LoginFailed = "auth.login_failed";
    public const string RefreshReuseDetected = "auth.refresh_reuse_detected";
    public const string LoggedOut = "auth.logged_out";
    public const string PasswordChanged = "auth.password_changed";
    public const string SessionRevoked = "auth.session_revoked";
    public const string RoleChanged = "user.role_changed";
    public const string UserDeactivated = "user.deactivated";
    public const string UserReactivated = "user.reactivated";
    public const string ApiKeyCreated = "auth.api_key_created";
    public const string ApiKeyRevoked = "auth.api_key_revoked";
    public const string PasswordResetRequested = "auth.password_reset_requested";
    public const string PasswordReset = "auth.password_reset";
}
