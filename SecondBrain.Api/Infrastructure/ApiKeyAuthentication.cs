using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Identity;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Api.Infrastructure;

/// <summary>
/// Personal API keys presented as <c>Authorization: Bearer sbk_...</c>: the request acts as the key's user, with the
/// user's current role, and a read-only key may only read. Keys never manage keys or sessions (those need a signed-in
/// person), so a leaked key cannot mint more.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeyService keys, TenantContext tenant)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string AuthenticationMethodClaim = "amr";
    public const string ScopeClaim = "scope";

    public static string? PresentedKey(HttpRequest request) =>
        request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && ApiKeyService.LooksLikeKey(header["Bearer ".Length..].Trim())
            ? header["Bearer ".Length..].Trim()
            : null;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (PresentedKey(Request) is not { } key)
        {
            return AuthenticateResult.NoResult();
        }

        if (await keys.ResolveAsync(key, Context.RequestAborted) is not { } principal)
        {
            return AuthenticateResult.Fail("The API key is unknown, revoked or expired, or its user is deactivated.");
        }

        tenant.Set(principal.TenantId, principal.UserId);
        List<Claim> claims =
        [
            new(JwtRegisteredClaimNames.Sub, principal.UserId.ToString()),
            new(SecondBrainClaims.TenantId, principal.TenantId.ToString()),
            new(SecondBrainClaims.Role, principal.Role),
            new(SecondBrainClaims.Email, principal.Email),
            new(SecondBrainClaims.Name, principal.DisplayName),
            new(AuthenticationMethodClaim, SchemeName),
            .. principal.Scopes.Select(s => new Claim(ScopeClaim, s))
        ];
        var identity = new ClaimsIdentity(claims, SchemeName, SecondBrainClaims.Name, SecondBrainClaims.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}

internal static class ApiKeyScopeEnforcement
{
    /// <summary>
    /// After authentication: a read-only key may only read, and no key reaches the account endpoints (keys, sessions,
    /// password). 403 <c>insufficient_scope</c>.
    /// </summary>
    public static IApplicationBuilder UseApiKeyScopes(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (context.User.HasClaim(ApiKeyAuthenticationHandler.AuthenticationMethodClaim, ApiKeyAuthenticationHandler.SchemeName))
            {
                var path = context.Request.Path;
                var account = path.StartsWithSegments("/api/auth/api-keys") || path.StartsWithSegments("/api/auth/sessions")
                    || path.StartsWithSegments("/api/auth/password") || path.StartsWithSegments("/api/auth/logout");
                // Search and ask are reads, though their queries travel in a POST body.
                var reads = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)
                    || HttpMethods.IsPost(context.Request.Method) && (path.Equals("/api/search") || path.Equals("/api/ask"));
                if (account || !reads && !context.User.HasClaim(ApiKeyAuthenticationHandler.ScopeClaim, ApiKeyScopes.Write))
                {
                    var problem = new ApiProblem(403, ProblemCodes.InsufficientScope, account
                        ? "API keys cannot manage keys, sessions or passwords; sign in as the person."
                        : "This API key may only read; create one with the 'write' scope to change things.");
                    await problem.ToHttpResult(context).ExecuteAsync(context);
                    return;
                }
            }

            await next(context);
        });
}
