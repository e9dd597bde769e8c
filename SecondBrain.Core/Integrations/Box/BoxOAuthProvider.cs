using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Box;

/// <summary>
/// Box OAuth 2.0 (authorization code). Box refresh tokens are single-use: every refresh returns a new refresh
/// token that replaces the old one, which from then on answers <c>invalid_grant</c>.
/// </summary>
public sealed class BoxOAuthProvider(IHttpClientFactory http, IOptions<IntegrationsOptions> options) : IOAuthProvider
{
    public string Provider => Sources.Box;

    private OAuthProviderOptions Box => options.Value.Box;

    public Uri BuildAuthorizeUrl(string state, string codeChallenge, Uri redirectUri)
    {
        var query = new List<KeyValuePair<string, string>>
        {
            new("response_type", "code"),
            new("client_id", Box.ClientId),
            new("redirect_uri", redirectUri.ToString()),
            new("state", state),
            // Box ignores PKCE parameters it does not need; sending them costs nothing and keeps the flow uniform.
            new("code_challenge", codeChallenge),
            new("code_challenge_method", "S256")
        };
        if (!string.IsNullOrWhiteSpace(Box.Scopes))
        {
            query.Add(new("scope", Box.Scopes));
        }

        var separator = Box.AuthorizeEndpoint.Contains('?') ? '&' : '?';
        var encoded = string.Join('&', query.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        return new Uri($"{Box.AuthorizeEndpoint}{separator}{encoded}");
    }

    public async Task<ProviderTokens> ExchangeCodeAsync(string code, string codeVerifier, Uri redirectUri, CancellationToken cancellationToken)
    {
        var (status, body) = await PostTokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["client_id"] = Box.ClientId,
            ["client_secret"] = Box.ClientSecret,
            ["redirect_uri"] = redirectUri.ToString(),
            ["code_verifier"] = codeVerifier
        }, cancellationToken);

        if (body?.Error is { } error)
        {
            throw new ProviderOAuthException(error, body.ErrorDescription);
        }

        if (body?.AccessToken is null)
        {
            throw new ProviderOAuthException("invalid_response", $"Box answered the code exchange with HTTP {status} and no access token.");
        }

        var login = await TryGetLoginAsync(body.AccessToken, cancellationToken);
        return ToTokens(body, refreshFallback: null, login);
    }

    public async Task<ProviderTokens> RefreshAsync(string refreshToken, CancellationToken cancellationToken)
    {
        var (status, body) = await PostTokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = refreshToken,
            ["client_id"] = Box.ClientId,
            ["client_secret"] = Box.ClientSecret
        }, cancellationToken);

        if (body?.Error is { } error)
        {
            // invalid_grant: the refresh token was used already, expired (60 days) or the user revoked the app.
            if (error == "invalid_grant")
            {
                throw new ReauthRequiredException($"Box refused the refresh token ({body.ErrorDescription ?? error}); reconnect Box.");
            }

            throw new ProviderOAuthException(error, body.ErrorDescription);
        }

        if (body?.AccessToken is null)
        {
            throw new ProviderOAuthException("invalid_response", $"Box answered the refresh with HTTP {status} and no access token.");
        }

        return ToTokens(body, refreshToken, accountLabel: null);
    }

    public async Task RevokeAsync(ProviderTokens tokens, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(Box.RevokeEndpoint))
        {
            return;
        }

        try
        {
            using var client = http.CreateClient(Sources.Box);
            // Revoking the refresh token ends the whole grant (its access tokens too).
            using var content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["client_id"] = Box.ClientId,
                ["client_secret"] = Box.ClientSecret,
                ["token"] = tokens.RefreshToken ?? tokens.AccessToken
            });
            using var response = await client.PostAsync(Box.RevokeEndpoint, content, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Best effort: the connection is removed on our side whatever Box says.
        }
    }

    private async Task<(int Status, BoxTokenResponse? Body)> PostTokenAsync(Dictionary<string, string> form, CancellationToken cancellationToken)
    {
        using var client = http.CreateClient(ProviderTokenClients.Name(Sources.Box));
        using var content = new FormUrlEncodedContent(form);
        using var response = await client.PostAsync(Box.TokenEndpoint, content, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);

        BoxTokenResponse? body = null;
        try
        {
            body = text.Length == 0 ? null : JsonSerializer.Deserialize<BoxTokenResponse>(text, BoxJson.Options);
        }
        catch (JsonException)
        {
            // Not JSON (a proxy error page, an outage): decided by the status below.
        }

        if (body?.Error is null && !response.IsSuccessStatusCode)
        {
            if (BoxJson.IsTransient(response.StatusCode))
            {
                throw new HttpRequestException($"Box token endpoint answered {(int)response.StatusCode}.", null, response.StatusCode);
            }

            body = new BoxTokenResponse(null, null, null, null, $"http_{(int)response.StatusCode}", Truncate(text));
        }

        return ((int)response.StatusCode, body);
    }

    private async Task<string?> TryGetLoginAsync(string accessToken, CancellationToken cancellationToken)
    {
        try
        {
            using var client = http.CreateClient(Sources.Box);
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{Box.ApiBaseUrl.TrimEnd('/')}/users/me?fields=login,name");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            using var response = await client.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            var user = await BoxJson.ReadAsync<BoxUser>(response, cancellationToken);
            return string.IsNullOrWhiteSpace(user?.Login) ? null : user.Login;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // The label is cosmetic; a connection without it is still a working connection.
            return null;
        }
    }

    private static ProviderTokens ToTokens(BoxTokenResponse body, string? refreshFallback, string? accountLabel) => new(
        body.AccessToken!,
        body.RefreshToken ?? refreshFallback,
        body.ExpiresIn is { } seconds ? DateTimeOffset.UtcNow.AddSeconds(seconds) : null,
        accountLabel);

    private static string Truncate(string text)
    {
        var trimmed = text.Trim();
        return trimmed.Length <= 200 ? trimmed : new StringBuilder(trimmed, 0, 200, 203).Append("...").ToString();
    }
}
