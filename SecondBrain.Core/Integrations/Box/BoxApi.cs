using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SecondBrain.Core.Integrations.Box;

/// <summary>The shapes of the Box API this connector reads (only the fields it uses).</summary>
internal static class BoxJson
{
    // Box mixes numbers and numeric strings (stream positions, sizes) across endpoints; accept both.
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowReadingFromString
    };

    public static async Task<T?> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonSerializer.DeserializeAsync<T>(stream, Options, cancellationToken);
    }

    /// <summary>A stream position as text, whether Box sent it as a number or a string.</summary>
    public static string? PositionText(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.GetRawText(),
        _ => null
    };

    public static bool IsTransient(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status >= 500;
}

internal sealed record BoxTokenResponse(
    string? AccessToken,
    long? ExpiresIn,
    string? RefreshToken,
    string? TokenType,
    string? Error,
    string? ErrorDescription);

internal sealed record BoxUser(string? Id, string? Name, string? Login);

internal sealed record BoxFileVersion(string? Id, string? Sha1);

internal sealed record BoxItemRef(string? Type, string? Id, string? Name);

internal sealed record BoxPathCollection(List<BoxItemRef>? Entries);

/// <summary>A file, folder or web link as listed in a folder or carried as an event's source.</summary>
internal sealed record BoxItem(
    string? Type,
    string? Id,
    string? Name,
    DateTimeOffset? ModifiedAt,
    long? Size,
    string? Sha1,
    string? Etag,
    BoxUser? ModifiedBy,
    BoxFileVersion? FileVersion,
    BoxPathCollection? PathCollection);

internal sealed record BoxFolderItems(long? TotalCount, List<BoxItem>? Entries, long? Offset, long? Limit);

/// <summary>
/// An event; <see cref="Source"/> stays raw because its shape depends on the event (file, folder, user,
/// collaboration...) and only file sources are read.
/// </summary>
internal sealed record BoxEvent(string? EventId, string? EventType, JsonElement Source);

internal sealed record BoxEvents(long? ChunkSize, JsonElement NextStreamPosition, List<BoxEvent>? Entries);

/// <summary>Content types of Box files, from the extension: Box itself reports none.</summary>
public static class BoxContentTypes
{
    public const string Default = "application/octet-stream";

    private static readonly Dictionary<string, string> ByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        [".pdf"] = "application/pdf",
        [".docx"] = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        [".pptx"] = "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        [".xlsx"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        [".doc"] = "application/msword",
        [".ppt"] = "application/vnd.ms-powerpoint",
        [".xls"] = "application/vnd.ms-excel",
        [".txt"] = "text/plain",
        [".md"] = "text/markdown",
        [".markdown"] = "text/markdown",
        [".html"] = "text/html",
        [".htm"] = "text/html",
        [".csv"] = "text/csv",
        [".json"] = "application/json",
        [".eml"] = "message/rfc822",
        [".rtf"] = "application/rtf"
    };

    public static string ForName(string? name) =>
        name is not null && ByExtension.TryGetValue(Path.GetExtension(name), out var type) ? type : Default;
}
