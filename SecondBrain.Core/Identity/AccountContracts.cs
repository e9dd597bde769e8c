namespace SecondBrain.Core.Identity;

public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

/// <summary>One signed-in session (a refresh-token family): when it began, when it was last refreshed, whether it is this one.</summary>
public sealed record SessionResponse(Guid Id, DateTimeOffset SignedInAt, DateTimeOffset LastRefreshedAt, DateTimeOffset ExpiresAt, string? Instance, bool Current);

/// <summary>What a tenant admin may change about a user: the role, and whether the account is active.</summary>
public sealed record UpdateUserRequest(string? Role, bool? Active);

public sealed record AuditEntryResponse(long Id, DateTimeOffset At, Guid? ActorUserId, string Action, string? Target, string? Detail, string? InstanceId);
