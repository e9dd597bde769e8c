using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Slack;

/// <summary>Slack answered a Web API call with <c>ok:false</c> and an error the reader cannot work around.</summary>
public sealed class SlackApiException(string method, string error)
    : Exception($"Slack {method} failed: {error}")
{
    public string Method { get; } = method;

    public string Error { get; } = error;
}

/// <summary>
/// One reader page's calls to the Slack Web API for one connection. Slack reports failures as HTTP 200 with
/// <c>{"ok":false,"error":"..."}</c>; HTTP 429 and 5xx are retried by the client's resilience handler, so one that
/// still comes back here is an <see cref="HttpRequestException"/>.
/// </summary>
internal sealed class SlackApiSession(HttpClient client, string apiBaseUrl, IConnectionTokenSource tokens, Guid connectionId)
{
    // Errors that mean the access token is no good; a refresh may fix it (rotation), else the user must reconnect.
    private static readonly HashSet<string> AuthErrors = new(StringComparer.Ordinal)
    {
        "invalid_auth", "token_revoked", "account_inactive", "not_authed", "token_expired"
    };

    private string? _accessToken;

    /// <summary>The response document (caller disposes) or, for errors other than authentication, the error code.</summary>
    public async Task<(JsonDocument? Response, string? Error)> CallAsync(
        string method,
        IReadOnlyDictionary<string, string?> arguments,
        CancellationToken cancellationToken)
    {
        _accessToken ??= await tokens.GetAccessTokenAsync(connectionId, forceRefresh: false, cancellationToken);
        var (response, error) = await SendAsync(method, arguments, cancellationToken);
        if (error is null || !AuthErrors.Contains(error))
        {
            return (response, error);
        }

        // Rotated tokens expire; one forced refresh tells an expired token from a revoked grant.
        _accessToken = await tokens.GetAccessTokenAsync(connectionId, forceRefresh: true, cancellationToken);
        (response, error) = await SendAsync(method, arguments, cancellationToken);
        if (error is not null && AuthErrors.Contains(error))
        {
            throw new ReauthRequiredException($"Slack refused the access token ({error}); reconnect Slack.");
        }

        return (response, error);
    }

    /// <summary>Like <see cref="CallAsync"/>, but any error is fatal for the page.</summary>
    public async Task<JsonDocument> CallOrThrowAsync(string method, IReadOnlyDictionary<string, string?> arguments, CancellationToken cancellationToken)
    {
        var (response, error) = await CallAsync(method, arguments, cancellationToken);
        return response ?? throw new SlackApiException(method, error ?? "unknown_error");
    }

    public static string? NextCursor(JsonElement root) =>
        root.TryGetProperty("response_metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            && SlackMessage.GetString(metadata, "next_cursor") is { Length: > 0 } next
            ? next
            : null;

    private async Task<(JsonDocument? Response, string? Error)> SendAsync(
        string method,
        IReadOnlyDictionary<string, string?> arguments,
        CancellationToken cancellationToken)
    {
        var url = QueryHelpers.AddQueryString(
            $"{apiBaseUrl.TrimEnd('/')}/{method}",
            arguments.Where(argument => argument.Value is not null));
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _accessToken);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(
                $"Slack {method} answered HTTP {(int)response.StatusCode} after retries.",
                null,
                response.StatusCode);
        }

        var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True)
        {
            return (document, null);
        }

        var error = root.ValueKind == JsonValueKind.Object ? SlackMessage.GetString(root, "error") : null;
        document.Dispose();
        return (null, error ?? "unknown_error");
    }
}
