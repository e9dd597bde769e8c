using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SecondBrain.Core.Integrations.Gmail;

/// <summary>The slices of the Gmail REST API (v1) and Google's token endpoint that the connector reads.</summary>
internal static class GmailApi
{
    public static readonly JsonSerializerOptions Json = CreateJsonOptions();

    public static string ProfileUrl(OAuthProviderOptions gmail) => $"{Base(gmail)}/gmail/v1/users/me/profile";

    public static string MessagesUrl(OAuthProviderOptions gmail, int pageSize, string? pageToken) =>
        $"{Base(gmail)}/gmail/v1/users/me/messages?maxResults={pageSize}" + PageTokenParameter(pageToken);

    public static string MessageUrl(OAuthProviderOptions gmail, string id) =>
        $"{Base(gmail)}/gmail/v1/users/me/messages/{Uri.EscapeDataString(id)}?format=raw";

    public static string HistoryUrl(OAuthProviderOptions gmail, string startHistoryId, int pageSize, string? pageToken) =>
        $"{Base(gmail)}/gmail/v1/users/me/history?startHistoryId={Uri.EscapeDataString(startHistoryId)}" +
        $"&historyTypes=messageAdded&historyTypes=messageDeleted&maxResults={pageSize}" + PageTokenParameter(pageToken);

    /// <summary>Gmail caps both messages.list and history.list at 500 per page.</summary>
    public static int PageSize(OAuthProviderOptions gmail) => Math.Clamp(gmail.PageSize, 1, 500);

    public static bool IsTransient(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>Gmail's raw field is base64url and not always padded; null when it is not base64 at all.</summary>
    public static byte[]? DecodeBase64Url(string value)
    {
        var normalized = value.Trim().TrimEnd('=').Replace('-', '+').Replace('_', '/');
        if (normalized.Length % 4 == 1)
        {
            return null;
        }

        normalized = normalized.PadRight(normalized.Length + ((4 - normalized.Length % 4) % 4), '=');
        try
        {
            return Convert.FromBase64String(normalized);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string Base(OAuthProviderOptions gmail) => gmail.ApiBaseUrl.TrimEnd('/');

    private static string PageTokenParameter(string? pageToken) =>
        pageToken is null ? "" : "&pageToken=" + Uri.EscapeDataString(pageToken);

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new LenientStringConverter());
        return options;
    }

    /// <summary>Google encodes 64-bit ids (historyId, internalDate) as JSON strings, but stand-ins and proxies may not.</summary>
    private sealed class LenientStringConverter : JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => reader.TryGetInt64(out var number) ? number.ToString(System.Globalization.CultureInfo.InvariantCulture) : reader.GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture),
            JsonTokenType.Null => null,
            _ => throw new JsonException($"Expected a string, got {reader.TokenType}.")
        };

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }
}

internal sealed record GmailProfile(string? EmailAddress, string? HistoryId);

internal sealed record GmailMessageRef(string? Id, string? ThreadId);

internal sealed record GmailMessageList(IReadOnlyList<GmailMessageRef>? Messages, string? NextPageToken, long? ResultSizeEstimate);

internal sealed record GmailMessage(string? Id, string? ThreadId, IReadOnlyList<string>? LabelIds, string? Raw, string? InternalDate);

internal sealed record GmailHistoryMessage(GmailMessageRef? Message);

internal sealed record GmailHistoryRecord(string? Id, IReadOnlyList<GmailHistoryMessage>? MessagesAdded, IReadOnlyList<GmailHistoryMessage>? MessagesDeleted);

internal sealed record GmailHistoryList(IReadOnlyList<GmailHistoryRecord>? History, string? NextPageToken, string? HistoryId);

internal sealed record GoogleTokenResponse(
    [property: JsonPropertyName("access_token")] string? AccessToken,
    [property: JsonPropertyName("expires_in")] long? ExpiresIn,
    [property: JsonPropertyName("refresh_token")] string? RefreshToken,
    [property: JsonPropertyName("scope")] string? Scope,
    [property: JsonPropertyName("token_type")] string? TokenType,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("error_description")] string? ErrorDescription);

/// <summary>
/// The reader's whole progress. Full mode: <see cref="PageToken"/> of messages.list and <see cref="HistoryId"/>, the
/// mailbox historyId captured before listing (the next incremental run starts there, so nothing that arrives during
/// the listing is lost). History mode: <see cref="PageToken"/> of history.list and the <see cref="HistoryId"/> it starts from.
/// </summary>
internal sealed record GmailCursor(string Mode, string? PageToken, string? HistoryId, bool FellBackToFull = false)
{
    public const string Full = "full";
    public const string History = "history";

    public string Serialize() => JsonSerializer.Serialize(this, GmailApi.Json);

    public static GmailCursor Parse(string cursor)
    {
        GmailCursor? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<GmailCursor>(cursor, GmailApi.Json);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException("Not a Gmail cursor.", nameof(cursor), ex);
        }

        return parsed is { Mode: Full or History } ? parsed : throw new ArgumentException("Not a Gmail cursor.", nameof(cursor));
    }
}
