using System.IdentityModel.Tokens.Jwt;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Identity;

namespace Microsoft.AspNetCore.Builder;

public static class AuthApi
{
    public static RouteGroupBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/auth").WithTags("Auth");
        // Per client address, counted across all instances: guessing and mass signups cost the caller, not the fleet.
        var limited = api.MapGroup("").RequireRateLimiting(RateLimitPolicies.Auth);

        limited.MapPost("/signup", SignupAsync)
            .AllowAnonymous()
            .WithName("Signup")
            .WithSummary("Sign up: mails the address a link that creates the tenant and its first (admin) user (202, the same for every address). "
                + "With Identity:Signup:VerifyEmail off, creates them at once and signs in (201).");
        limited.MapPost("/signup/confirm", ConfirmSignupAsync)
            .AllowAnonymous()
            .WithName("ConfirmSignup")
            .WithSummary("Follow the mailed sign-up link: creates the tenant and its admin and signs in. The link works once.");
        limited.MapPost("/login", LoginAsync)
            .AllowAnonymous()
            .WithName("Login")
            .WithSummary("Sign in with e-mail and password. Repeated failures are throttled across all instances.");
        limited.MapPost("/refresh", RefreshAsync)
            .AllowAnonymous()
            .WithName("Refresh")
            .WithSummary("Exchange a refresh token for new tokens. Each refresh token works once; reuse revokes the session family.");
        limited.MapPost("/password-reset", RequestPasswordResetAsync)
            .AllowAnonymous()
            .WithName("RequestPasswordReset")
            .WithSummary("Mail a single-use reset link (30 minutes) to the account's address. Always 202: it reveals nothing about who is registered.");
        limited.MapPost("/password-reset/confirm", ConfirmPasswordResetAsync)
            .AllowAnonymous()
            .WithName("ConfirmPasswordReset")
            .WithSummary("Set a new password with the mailed token; ends every session of the account.");
        limited.MapPost("/password", ChangePasswordAsync)
            .WithName("ChangePassword")
            .WithSummary("Change your password (the current one is checked like a login); ends your other sessions, this one stays.");
        api.MapPost("/api-keys", CreateApiKeyAsync)
            .WithName("CreateApiKey")
            .WithSummary("A personal API key for scripts and bots (scopes read, write; optional expiry). The key is in this response only.");
        api.MapGet("/api-keys", ListApiKeysAsync)
            .WithName("ListApiKeys")
            .WithSummary("Your active API keys with their prefix, scopes and last use (never the key).");
        api.MapDelete("/api-keys/{id:guid}", RevokeApiKeyAsync)
            .WithName("RevokeApiKey")
            .WithSummary("Revoke one of your API keys: it stops working on every instance at once.");
        api.MapGet("/sessions", ListSessionsAsync)
            .WithName("ListSessions")
            .WithSummary("Your signed-in sessions, the current one marked.");
        api.MapDelete("/sessions/{id:guid}", RevokeSessionAsync)
            .WithName("RevokeSession")
            .WithSummary("End one of your sessions: its refresh token and access tokens stop working on every instance.");
        limited.MapPost("/logout", LogoutAsync)
            .WithName("Logout")
            .WithSummary("Revoke the given refresh token's session family (or all of the user's sessions) and the current access token.");
        api.MapGet("/me", MeAsync)
            .WithName("Me")
            .WithSummary("The signed-in user and tenant.");

        return api;
    }

    public static async Task<Results<Created<SignupResponse>, Accepted<SignupPendingResponse>, ProblemHttpResult>> SignupAsync(
        SignupRequest request, IOptions<SignupOptions> options, SignupService signups, AuthService auth, HttpContext http, CancellationToken ct)
    {
        if (options.Value.VerifyEmail)
        {
            var pending = await signups.RequestAsync(request, ct);
            return pending.Succeeded ? TypedResults.Accepted((string?)null, pending.Value) : pending.Problem!.ToHttpResult(http);
        }

        var outcome = await auth.SignupAsync(request, ct);
        return outcome.Succeeded
            ? TypedResults.Created("/api/auth/me", outcome.Value)
            : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<Created<SignupResponse>, ProblemHttpResult>> ConfirmSignupAsync(
        SignupConfirmRequest request, SignupService signups, HttpContext http, CancellationToken ct)
    {
        var outcome = await signups.ConfirmAsync(request, ct);
        return outcome.Succeeded ? TypedResults.Created("/api/auth/me", outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> LoginAsync(
        LoginRequest request, AuthService auth, HttpContext http, CancellationToken ct)
    {
        var outcome = await auth.LoginAsync(request, RateLimitPolicies.ClientAddress(http), ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> RefreshAsync(
        RefreshRequest request, AuthService auth, HttpContext http, CancellationToken ct)
    {
        var outcome = await auth.RefreshAsync(request, ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<NoContent> LogoutAsync(LogoutRequest? request, AuthService auth, HttpContext http, CancellationToken ct)
    {
        var jti = http.User.FindFirst(JwtRegisteredClaimNames.Jti)?.Value;
        var exp = long.TryParse(http.User.FindFirst(JwtRegisteredClaimNames.Exp)?.Value, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : (DateTimeOffset?)null;
        await auth.LogoutAsync(request?.RefreshToken, jti, exp, ct);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<MeResponse>, ProblemHttpResult>> MeAsync(AuthService auth, HttpContext http, CancellationToken ct)
    {
        var outcome = await auth.GetCurrentUserAsync(ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> ChangePasswordAsync(
        ChangePasswordRequest request, AccountService accounts, HttpContext http, CancellationToken ct)
    {
        var outcome = await accounts.ChangePasswordAsync(request, CurrentSession(http), RateLimitPolicies.ClientAddress(http), ct);
        return outcome.Succeeded ? TypedResults.NoContent() : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Ok<IReadOnlyList<SessionResponse>>> ListSessionsAsync(AccountService accounts, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok(await accounts.ListSessionsAsync(CurrentSession(http), ct));

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeSessionAsync(Guid id, AccountService accounts, HttpContext http, CancellationToken ct)
    {
        var outcome = await accounts.RevokeSessionAsync(id, ct);
        return outcome.Succeeded ? TypedResults.NoContent() : outcome.Problem!.ToHttpResult(http);
    }

    private static Guid? CurrentSession(HttpContext http) =>
        Guid.TryParse(http.User.FindFirst(SecondBrainClaims.Session)?.Value, out var family) ? family : null;

    public static async Task<Results<Created<CreatedApiKeyResponse>, ProblemHttpResult>> CreateApiKeyAsync(
        CreateApiKeyRequest request, ApiKeyService keys, HttpContext http, CancellationToken ct)
    {
        var outcome = await keys.CreateAsync(request, ct);
        return outcome.Succeeded ? TypedResults.Created($"/api/auth/api-keys/{outcome.Value!.ApiKey.Id}", outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Ok<IReadOnlyList<ApiKeyResponse>>> ListApiKeysAsync(ApiKeyService keys, CancellationToken ct) =>
        TypedResults.Ok(await keys.ListAsync(ct));

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeApiKeyAsync(Guid id, ApiKeyService keys, HttpContext http, CancellationToken ct)
    {
        var outcome = await keys.RevokeAsync(id, ct);
        return outcome.Succeeded ? TypedResults.NoContent() : outcome.Problem!.ToHttpResult(http);
    }

    // A reset works on the account it names, whoever calls: its own scope, so a caller's signed-in tenant (a bearer
    // sent along) is not the unit of work's tenant.
    public static async Task<Results<Accepted, ProblemHttpResult>> RequestPasswordResetAsync(
        PasswordResetRequest request, IServiceScopeFactory scopes, HttpContext http, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var outcome = await scope.ServiceProvider.GetRequiredService<PasswordResetService>().RequestAsync(request, ct);
        return outcome.Succeeded ? TypedResults.Accepted((string?)null) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> ConfirmPasswordResetAsync(
        PasswordResetConfirmRequest request, IServiceScopeFactory scopes, HttpContext http, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var outcome = await scope.ServiceProvider.GetRequiredService<PasswordResetService>().ConfirmAsync(request, ct);
        return outcome.Succeeded ? TypedResults.NoContent() : outcome.Problem!.ToHttpResult(http);
    }
}
