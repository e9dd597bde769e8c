using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Slack;

/// <summary>
/// Slack's OAuth v2 (oauth.v2.access) with PKCE and token rotation. Slack answers errors as HTTP 200 with
/// <c>{"ok":false,"error":"..."}</c>, so success is read from the body, not the status.
/// </summary>
public sealed class SlackOAuthProvider(IHttpClientFactory http, IOptions<IntegrationsOptions> options) : IOAuthProvider
{
    // Errors meaning the refresh token (the grant) is gone: only a new consent helps.
    private static readonly HashSet<string> GrantGoneErrors = new(StringComparer.Ordinal)
    {
        "invalid_refresh_token", "invalid_grant", "token_revoked", "token_expired", "invalid_auth", "account_inactive"
    };

    public string Provider => Sources.Slack;

    private OAuthProviderOptions Settings => options.Value.Slack;

    public Uri BuildAuthorizeUrl(string state, string codeChallenge, Uri redirectUri)
    {
        var url = QueryHelpers.AddQueryString(Settings.AuthorizeEndpoint, new Dictionary<string, string?>
        {
            ["client_id"] = Settings.ClientId,
            ["scope"] = Settings.Scopes,
            ["redirect_uri"] = redirectUri.ToString(),
            ["state"] = state,
            ["code_challenge"] = codeChallenge,
            ["code_challenge_method"] = "S256"
        });
        return new Uri(url);
    }

    public async Task<ProviderTokens> ExchangeCodeAsync(string code, string codeVerifier, Uri redirectUri, CancellationToken cancellationToken)
    {
        using var response = await PostTokenRequestAsync(new Dictionary<string, string>
        {
            ["client_id"] = Settings.ClientId,
            ["client_secret"] = Settings.ClientSecret,
            ["code"] = code,
            ["redirect_uri"] = redirectUri.ToString(),
            ["code_verifier"] = codeVerifier
        }, cancellationToken);

        if (ErrorOf(response.RootElement) is { } error)
        {
            throw new ProviderOAuthException(error, "Slack refused the authorization code.");
        }

        return ReadTokens(response.RootElement, previousRefreshToken: null);
    }

    public async Task<ProviderTokens> RefreshAsync(string refreshToken, CancellationToken cancellationToken)
    {
        using var response = await PostTokenRequestAsync(new Dictionary<string, string>
        {
            ["client_id"] = Settings.ClientId,
            ["client_secret"] = Settings.ClientSecret,
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = refreshToken
        }, cancellationToken);

        if (ErrorOf(response.RootElement) is { } error)
        {
            if (GrantGoneErrors.Contains(error))
            {
                throw new ReauthRequiredException($"Slack refused the refresh token ({error}); reconnect Slack.");
            }

            throw new ProviderOAuthException(error, "Slack refused the token refresh.");
        }

        return ReadTokens(response.RootElement, refreshToken);
    }

    public async Task RevokeAsync(ProviderTokens tokens, CancellationToken cancellationToken)
    {
        var endpoint = Settings.RevokeEndpoint is { Length: > 0 } revoke ? revoke : $"{Settings.ApiBaseUrl.TrimEnd('/')}/auth.revoke";
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = tokens.AccessToken })
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
            using var response = await http.CreateClient(Sources.Slack).SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException)
        {
            // Best effort: the connection is removed on our side whatever Slack says; a token Slack still
            // honours is useless without the encrypted copy we just deleted.
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A timeout, same reasoning as above.
        }
    }

    private async Task<JsonDocument> PostTokenRequestAsync(Dictionary<string, string> form, CancellationToken cancellationToken)
    {
        using var content = new FormUrlEncodedContent(form);
        using var response = await http.CreateClient(ProviderTokenClients.Name(Sources.Slack)).PostAsync(Settings.TokenEndpoint, content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new ProviderOAuthException("provider_unavailable", $"Slack answered HTTP {(int)response.StatusCode} to the token request.");
        }

        try
        {
            return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        }
        catch (JsonException ex)
        {
            throw new ProviderOAuthException("invalid_response", $"Slack's token response is not JSON: {ex.Message}");
        }
    }

    private static string? ErrorOf(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return "invalid_response";
        }

        var ok = root.TryGetProperty("ok", out var okValue) && okValue.ValueKind == JsonValueKind.True;
        return ok ? null : SlackMessage.GetString(root, "error") ?? "unknown_error";
    }

    private static ProviderTokens ReadTokens(JsonElement root, string? previousRefreshToken)
    {
        var accessToken = SlackMessage.GetString(root, "access_token");
        if (string.IsNullOrEmpty(accessToken))
        {
            throw new ProviderOAuthException("invalid_response", "Slack's token response has no access_token.");
        }

        DateTimeOffset? expiresAt = root.TryGetProperty("expires_in", out var expiresIn) && expiresIn.ValueKind == JsonValueKind.Number
            ? DateTimeOffset.UtcNow.AddSeconds(expiresIn.GetInt64())
            : null;
        var team = root.TryGetProperty("team", out var teamElement) && teamElement.ValueKind == JsonValueKind.Object
            ? SlackMessage.GetString(teamElement, "name")
            : null;

        return new ProviderTokens(
            accessToken,
            SlackMessage.GetString(root, "refresh_token") ?? previousRefreshToken,
            expiresAt,
            team,
            SlackMessage.GetString(root, "scope"));
    }
}
