namespace SecondBrain.Core.Integrations;

/// <summary>Tokens a provider issued. Stored only encrypted (Data Protection, key ring in Postgres).</summary>
public sealed record ProviderTokens(
    string AccessToken,
    string? RefreshToken,
    DateTimeOffset? ExpiresAt,
    string? AccountLabel = null,
    string? Scope = null);

/// <summary>The provider-specific half of OAuth 2.0 (authorization code with PKCE).</summary>
public interface IOAuthProvider
{
    string Provider { get; }

    Uri BuildAuthorizeUrl(string state, string codeChallenge, Uri redirectUri);

    /// <summary>Exchanges the authorization code; throws <see cref="ProviderOAuthException"/> when the provider refuses.</summary>
    Task<ProviderTokens> ExchangeCodeAsync(string code, string codeVerifier, Uri redirectUri, CancellationToken cancellationToken);

    /// <summary>
    /// New tokens from a refresh token. Box refresh tokens are single-use, so the result's refresh token must be
    /// persisted before anything else. Throws <see cref="Sync.ReauthRequiredException"/> when the grant is gone.
    /// </summary>
    Task<ProviderTokens> RefreshAsync(string refreshToken, CancellationToken cancellationToken);

    /// <summary>Best effort revocation at the provider on disconnect.</summary>
    Task RevokeAsync(ProviderTokens tokens, CancellationToken cancellationToken);
}

/// <summary>The provider answered the token request with an error.</summary>
public sealed class ProviderOAuthException(string error, string? description = null) : Exception($"{error}: {description}")
{
    public string Error { get; } = error;
}

/// <summary>
/// Gives readers a valid access token for a connection, refreshing (and persisting the new tokens) before expiry;
/// <paramref name="forceRefresh"/> after a provider 401.
/// </summary>
public interface IConnectionTokenSource
{
    Task<string> GetAccessTokenAsync(Guid connectionId, bool forceRefresh, CancellationToken cancellationToken);
}

/// <summary>Endpoints and credentials of one OAuth provider; base URLs are configurable so stand-ins can serve them.</summary>
public sealed class OAuthProviderOptions
{
    public string ClientId { get; set; } = "";
    public string ClientSecret { get; set; } = "";
    public string AuthorizeEndpoint { get; set; } = "";
    public string TokenEndpoint { get; set; } = "";
    public string? RevokeEndpoint { get; set; }
    public string ApiBaseUrl { get; set; } = "";
    public string Scopes { get; set; } = "";

    /// <summary>The callback URL registered with the provider; from configuration, never from the request.</summary>
    public string RedirectUri { get; set; } = "";

    /// <summary>Items per provider page (messages, conversations, folder entries).</summary>
    public int PageSize { get; set; } = 100;

    public bool IsConfigured => ClientId.Length > 0 && AuthorizeEndpoint.Length > 0 && TokenEndpoint.Length > 0 && ApiBaseUrl.Length > 0;
}

/// <summary>Configuration section <c>Integrations</c>.</summary>
public sealed class IntegrationsOptions
{
    public const string SectionName = "Integrations";

    /// <summary>Where the browser is sent after a callback, with <c>?connected=provider</c> or <c>?error=code</c>.</summary>
    public string FrontendUrl { get; set; } = "http://localhost:3000/integrations";

    public OAuthProviderOptions Gmail { get; set; } = new()
    {
        AuthorizeEndpoint = "https://accounts.google.com/o/oauth2/v2/auth",
        TokenEndpoint = "https://oauth2.googleapis.com/token",
        RevokeEndpoint = "https://oauth2.googleapis.com/revoke",
        ApiBaseUrl = "https://gmail.googleapis.com",
        Scopes = "https://www.googleapis.com/auth/gmail.readonly"
    };

    public OAuthProviderOptions Slack { get; set; } = new()
    {
        AuthorizeEndpoint = "https://slack.com/oauth/v2/authorize",
        TokenEndpoint = "https://slack.com/api/oauth.v2.access",
        RevokeEndpoint = "https://slack.com/api/auth.revoke",
        ApiBaseUrl = "https://slack.com/api",
        Scopes = "channels:history,channels:read,groups:history,groups:read,users:read"
    };

    public OAuthProviderOptions Box { get; set; } = new()
    {
        AuthorizeEndpoint = "https://account.box.com/api/oauth2/authorize",
        TokenEndpoint = "https://api.box.com/oauth2/token",
        RevokeEndpoint = "https://api.box.com/oauth2/revoke",
        ApiBaseUrl = "https://api.box.com/2.0",
        Scopes = "root_readonly"
    };

    public OAuthProviderOptions For(string provider) => provider switch
    {
        Sync.Sources.Gmail => Gmail,
        Sync.Sources.Slack => Slack,
        Sync.Sources.Box => Box,
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "Not an OAuth provider.")
    };
}

/// <summary>The HTTP clients for providers' token endpoints: no retry pipeline, a few seconds' timeout.</summary>
public static class ProviderTokenClients
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static string Name(string provider) => provider + ".token";
}
