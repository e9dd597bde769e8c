namespace SecondBrain.Core.Identity;

public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

/// <summary>One signed-in session (a refresh-token family): when it began, when it was last refreshed, whether it is this one.</summary>
public sealed record SessionResponse(Guid Id, DateTimeOffset SignedInAt, DateTimeOffset LastRefreshedAt, DateTimeOffset ExpiresAt, string? Instance, bool Current);

/// <summary>What a tenant admin may change about a user: the role, and whether the account is active.</summary>
public sealed record UpdateUserRequest(string? Role, bool? Active);

public sealed record AuditEntryResponse(long Id, DateTimeOffset At, Guid? ActorUserId, string Action, string? Target, string? Detail, string? InstanceId);

public sealed record CreateApiKeyRequest(string? Name, IReadOnlyList<string>? Scopes, int? ExpiresInDays);

public sealed record ApiKeyResponse(Guid Id, string Name, string Prefix, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt)
{
    public static ApiKeyResponse From(ApiKey k) => new(k.Id, k.Name, k.Prefix, k.Scopes, k.CreatedAt, k.ExpiresAt, k.LastUsedAt);
}

/// <summary>The new key, returned once: only its hash is kept.</summary>
public sealed record CreatedApiKeyResponse(ApiKeyResponse ApiKey, string Key);

public sealed record PasswordResetRequest(string? Email);

public sealed record PasswordResetConfirmRequest(string? Token, string? NewPassword);

public sealed record SignupConfirmRequest(string? Token);

/// <summary>What sign-up answers when the address must be confirmed: the same for every address.</summary>
public sealed record SignupPendingResponse(string Email, string Message);
