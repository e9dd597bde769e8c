using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Identity;

public static class Roles
{
    public const string Admin = "admin";
    public const string Member = "member";

    public static bool IsKnown(string role) => role is Admin or Member;
}

public sealed class User : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public required string Email { get; set; }

    /// <summary>Upper-invariant e-mail: unique across all tenants, since login is by e-mail alone.</summary>
    public required string NormalizedEmail { get; set; }

    public required string DisplayName { get; set; }
    public required string PasswordHash { get; set; }
    public required string Role { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? LastLoginAt { get; set; }

    /// <summary>Set by a tenant admin: the user can no longer sign in or refresh, and their tokens stop working.</summary>
    public DateTimeOffset? DeactivatedAt { get; set; }

    public static string Normalize(string email) => email.Trim().ToUpperInvariant();
}
