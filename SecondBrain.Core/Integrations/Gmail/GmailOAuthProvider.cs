using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Gmail;

/// <summary>Google OAuth 2.0 (authorization code with PKCE, offline access) for the Gmail connector.</summary>
public sealed class GmailOAuthProvider(IHttpClientFactory http, IOptions<IntegrationsOptions> options) : IOAuthProvider
{
    public string Provider => Sources.Gmail;

    private OAuthProviderOptions Gmail => options.Value.Gmail;

    public Uri BuildAuthorizeUrl(string state, string codeChallenge, Uri redirectUri)
    {
        var gmail = Gmail;
        var parameters = new[]
        {
            ("client_id", gmail.ClientId),
            ("redirect_uri", redirectUri.AbsoluteUri),
            ("response_type", "code"),
            ("scope", NormalizeScopes(gmail.Scopes)),
            ("state", state),
            ("code_challenge", codeChallenge),
            ("code_challenge_method", "S256"),
            // Without offline access Google issues no refresh token; without consent it does not re-issue one on reconnect.
            ("access_type", "offline"),
            ("prompt", "consent")
        };
        var query = string.Join('&', parameters.Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2)}"));
        var separator = gmail.AuthorizeEndpoint.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        return new Uri(gmail.AuthorizeEndpoint + separator + query);
    }

    public async Task<ProviderTokens> ExchangeCodeAsync(string code, string codeVerifier, Uri redirectUri, CancellationToken cancellationToken)
    {
        var gmail = Gmail;
        var (status, response) = await PostTokenAsync(gmail, new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["code_verifier"] = codeVerifier,
            ["client_id"] = gmail.ClientId,
            ["client_secret"] = gmail.ClientSecret,
            ["redirect_uri"] = redirectUri.AbsoluteUri
        }, cancellationToken);

        if (response?.Error is { Length: > 0 } error)
        {
            throw new ProviderOAuthException(error, response.ErrorDescription);
        }

        if (!IsSuccess(status))
        {
            throw new ProviderOAuthException($"http_{(int)status}", "Google refused the authorization code.");
        }

        var tokens = ToTokens(response, refreshTokenFallback: null);
        return tokens with { AccountLabel = await GetEmailAddressAsync(gmail, tokens.AccessToken, cancellationToken) };
    }

    public async Task<ProviderTokens> RefreshAsync(string refreshToken, CancellationToken cancellationToken)
    {
        var gmail = Gmail;
        var (status, response) = await PostTokenAsync(gmail, new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = refreshToken,
            ["client_id"] = gmail.ClientId,
            ["client_secret"] = gmail.ClientSecret
        }, cancellationToken);

        if (GmailApi.IsTransient(status))
        {
            // Not the grant's fault: the caller retries later with the same refresh token.
            throw new HttpRequestException($"Google's token endpoint answered {(int)status}.", null, status);
        }

        if (response?.Error is { Length: > 0 } error)
        {
            if (error == "invalid_grant" || status is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized)
            {
                throw new ReauthRequiredException($"Google refused the refresh token ({error}: {response.ErrorDescription}).");
            }

            throw new ProviderOAuthException(error, response.ErrorDescription);
        }

        if (!IsSuccess(status))
        {
            throw new ProviderOAuthException($"http_{(int)status}", "Google refused the token refresh.");
        }

        // Google rarely rotates refresh tokens: the old one stays valid and must be kept.
        return ToTokens(response, refreshTokenFallback: refreshToken);
    }

    public async Task RevokeAsync(ProviderTokens tokens, CancellationToken cancellationToken)
    {
        var gmail = Gmail;
        if (string.IsNullOrWhiteSpace(gmail.RevokeEndpoint))
        {
            return;
        }

        // Revoking the refresh token ends the whole grant, including its access tokens.
        var token = tokens.RefreshToken ?? tokens.AccessToken;
        try
        {
            using var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token });
            using var response = await http.CreateClient(Sources.Gmail).PostAsync(gmail.RevokeEndpoint, content, cancellationToken);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // Best effort: the connection is removed on our side whatever Google says.
        }
    }

    private async Task<(HttpStatusCode Status, GoogleTokenResponse? Response)> PostTokenAsync(
        OAuthProviderOptions gmail, Dictionary<string, string> form, CancellationToken cancellationToken)
    {
        using var content = new FormUrlEncodedContent(form);
        using var response = await http.CreateClient(ProviderTokenClients.Name(Sources.Gmail)).PostAsync(gmail.TokenEndpoint, content, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            return (response.StatusCode, string.IsNullOrWhiteSpace(body) ? null : JsonSerializer.Deserialize<GoogleTokenResponse>(body, GmailApi.Json));
        }
        catch (JsonException)
        {
            if (IsSuccess(response.StatusCode))
            {
                throw new ProviderOAuthException("invalid_response", "Google's token endpoint did not answer JSON.");
            }

            return (response.StatusCode, null);
        }
    }

    private async Task<string?> GetEmailAddressAsync(OAuthProviderOptions gmail, string accessToken, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, GmailApi.ProfileUrl(gmail));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            using var response = await http.CreateClient(Sources.Gmail).SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            var profile = await response.Content.ReadFromJsonAsync<GmailProfile>(GmailApi.Json, cancellationToken);
            return string.IsNullOrWhiteSpace(profile?.EmailAddress) ? null : profile.EmailAddress;
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // The label is cosmetic; a connection without it is still a working connection.
            return null;
        }
    }

    private static ProviderTokens ToTokens(GoogleTokenResponse? response, string? refreshTokenFallback)
    {
        if (string.IsNullOrWhiteSpace(response?.AccessToken))
        {
            throw new ProviderOAuthException("invalid_response", "Google's token response carries no access_token.");
        }

        DateTimeOffset? expiresAt = response.ExpiresIn is > 0 ? DateTimeOffset.UtcNow.AddSeconds(response.ExpiresIn.Value) : null;
        var refreshToken = string.IsNullOrWhiteSpace(response.RefreshToken) ? refreshTokenFallback : response.RefreshToken;
        return new ProviderTokens(response.AccessToken, refreshToken, expiresAt, Scope: response.Scope);
    }

    private static bool IsSuccess(HttpStatusCode status) => (int)status is >= 200 and < 300;

    /// <summary>Google wants space-separated scopes; configuration may list them with commas.</summary>
    private static string NormalizeScopes(string scopes) =>
        string.Join(' ', scopes.Split([' ', ',', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
}
