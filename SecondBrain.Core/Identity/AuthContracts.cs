namespace SecondBrain.Core.Identity;

public sealed record SignupRequest(string? TenantName, string? Email, string? Password, string? DisplayName);

public sealed record LoginRequest(string? Email, string? Password);

public sealed record RefreshRequest(string? RefreshToken);

public sealed record LogoutRequest(string? RefreshToken);

public sealed record CreateUserRequest(string? Email, string? Password, string? DisplayName, string? Role);

public sealed record TokenResponse(
    string AccessToken,
    DateTimeOffset AccessTokenExpiresAt,
    string RefreshToken,
    DateTimeOffset RefreshTokenExpiresAt,
    string TokenType = "Bearer");

public sealed record UserResponse(Guid Id, Guid TenantId, string Email, string DisplayName, string Role, DateTimeOffset CreatedAt, DateTimeOffset? LastLoginAt, bool Active = true)
{
    public static UserResponse From(User u) => new(u.Id, u.TenantId, u.Email, u.DisplayName, u.Role, u.CreatedAt, u.LastLoginAt, u.DeactivatedAt is null);
}

public sealed record TenantResponse(Guid Id, string Name, DateTimeOffset CreatedAt);

public sealed record SignupResponse(TenantResponse Tenant, UserResponse User, TokenResponse Tokens);

public sealed record MeResponse(UserResponse User, TenantResponse Tenant);
