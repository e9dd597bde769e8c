using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Box;

/// <summary>
/// Reads a Box account. A full sync notes the event stream position first (so nothing changed during the
/// traversal is missed by the next incremental run), then walks the folder tree from the root breadth first, one
/// folder page per source page. An incremental sync reads the <c>changes</c> event stream from the stored
/// position. All progress lives in the cursor, so any worker can continue a run.
/// </summary>
public sealed class BoxReader(
    IHttpClientFactory http,
    IConnectionTokenSource tokens,
    IOptions<IntegrationsOptions> options,
    ILogger<BoxReader> logger) : ISourceReader
{
    /// <summary>Larger files are recorded as failures without being downloaded.</summary>
    public const long MaxFileBytes = 50L * 1024 * 1024;

    private const string ListingFields = "id,type,name,modified_at,size,sha1,modified_by,parent,file_version,etag";

    private static readonly HashSet<string> ChangeEvents = new(StringComparer.Ordinal)
    {
        "ITEM_UPLOAD", "ITEM_CREATE", "ITEM_MODIFY", "ITEM_RENAME", "ITEM_UNDELETE_VIA_TRASH", "ITEM_MOVE", "ITEM_COPY"
    };

    private static readonly JsonSerializerOptions CursorJson = new(JsonSerializerDefaults.Web);

    public string Source => Sources.Box;

    private OAuthProviderOptions Box => options.Value.Box;

    private string ApiBase => Box.ApiBaseUrl.TrimEnd('/');

    public async Task<SourcePage> ReadPageAsync(SourceReadContext context, string? cursor, CancellationToken cancellationToken)
    {
        var connectionId = context.ConnectionId ?? throw new InvalidOperationException("A Box sync run needs a connection.");
        using var client = http.CreateClient(Sources.Box);
        var call = new Call(client, connectionId);

        BoxCursor state;
        if (cursor is not null)
        {
            state = ParseCursor(cursor);
        }
        else if (!string.IsNullOrWhiteSpace(context.PreviousSyncState))
        {
            state = new BoxCursor { Mode = BoxCursor.Changes, Stream = context.PreviousSyncState };
        }
        else
        {
            var now = await GetCurrentStreamPositionAsync(call, cancellationToken);
            state = new BoxCursor { Mode = BoxCursor.Full, Stream = now, Queue = [new BoxFolderRef("0", "")] };
        }

        return state.Mode == BoxCursor.Changes
            ? await ReadChangesAsync(call, state, cancellationToken)
            : await ReadFolderPageAsync(call, state, cancellationToken);
    }

    private async Task<string> GetCurrentStreamPositionAsync(Call call, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(call, $"{ApiBase}/events?stream_position=now", HttpCompletionOption.ResponseContentRead, cancellationToken);
        EnsureSuccess(response, "reading the event stream position");
        var events = await BoxJson.ReadAsync<BoxEvents>(response, cancellationToken);
        return (events is null ? null : BoxJson.PositionText(events.NextStreamPosition))
            ?? throw new HttpRequestException("Box returned no next_stream_position for stream_position=now.");
    }

    private async Task<SourcePage> ReadFolderPageAsync(Call call, BoxCursor state, CancellationToken cancellationToken)
    {
        if (state.Queue.Count == 0)
        {
            return new SourcePage([], [], null, SyncState: state.Stream, Stage: "listing done");
        }

        var folder = state.Queue[0];
        var displayPath = folder.Path.Length == 0 ? "/" : folder.Path;
        var limit = Math.Clamp(Box.PageSize, 1, 1000);
        var url = $"{ApiBase}/folders/{Uri.EscapeDataString(folder.Id)}/items?fields={ListingFields}&limit={limit}&offset={state.Offset}";

        BoxFolderItems? listing;
        using (var response = await SendAsync(call, url, HttpCompletionOption.ResponseContentRead, cancellationToken))
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                // Deleted or unshared since it was queued: its files are simply no longer part of the account.
                logger.LogInformation("Box folder {FolderId} ({Path}) disappeared during the sync; skipped", folder.Id, displayPath);
                listing = new BoxFolderItems(0, [], state.Offset, limit);
            }
            else
            {
                EnsureSuccess(response, $"listing {displayPath}");
                listing = await BoxJson.ReadAsync<BoxFolderItems>(response, cancellationToken);
            }
        }

        var entries = listing?.Entries ?? [];
        var items = new List<SourceItem>();
        var failures = new List<SourceItemFailure>();
        var next = state.Clone();

        foreach (var entry in entries)
        {
            if (entry.Id is null)
            {
                continue;
            }

            var path = $"{folder.Path}/{entry.Name}";
            switch (entry.Type)
            {
                case "folder":
                    next.Queue.Add(new BoxFolderRef(entry.Id, path));
                    break;
                case "file":
                    var (item, failure) = await DownloadAsync(call, entry, path, cancellationToken);
                    if (item is not null)
                    {
                        items.Add(item);
                    }

                    if (failure is not null)
                    {
                        failures.Add(failure);
                    }

                    break;
            }
        }

        var total = listing?.TotalCount ?? 0;
        next.Offset = state.Offset + entries.Count;
        if (entries.Count == 0 || next.Offset >= total)
        {
            next.Queue.RemoveAt(0);
            next.Offset = 0;
        }

        var stage = items.Count + failures.Count > 0 ? $"downloading {displayPath}" : $"listing {displayPath}";
        return next.Queue.Count == 0
            ? new SourcePage(items, failures, null, SyncState: state.Stream, Stage: stage)
            : new SourcePage(items, failures, Serialize(next), Stage: stage);
    }

    private async Task<SourcePage> ReadChangesAsync(Call call, BoxCursor state, CancellationToken cancellationToken)
    {
        var limit = Math.Clamp(Box.PageSize, 1, 500);
        var url = $"{ApiBase}/events?stream_type=changes&stream_position={Uri.EscapeDataString(state.Stream ?? "0")}&limit={limit}";

        BoxEvents? events;
        using (var response = await SendAsync(call, url, HttpCompletionOption.ResponseContentRead, cancellationToken))
        {
            EnsureSuccess(response, "reading changes");
            events = await BoxJson.ReadAsync<BoxEvents>(response, cancellationToken);
        }

        var nextPosition = (events is null ? null : BoxJson.PositionText(events.NextStreamPosition)) ?? state.Stream;
        var entries = events?.Entries ?? [];
        if (entries.Count == 0 || events?.ChunkSize == 0)
        {
            return new SourcePage([], [], null, SyncState: nextPosition, Stage: "reading changes");
        }

        // Box may repeat an event and a file may change several times in one chunk: the last word per file wins.
        var latest = new Dictionary<string, (string EventType, BoxItem File)>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var entry in entries)
        {
            if (entry.EventType is not { } eventType || entry.Source.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            if (!entry.Source.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "file")
            {
                continue;
            }

            if (eventType != "ITEM_TRASH" && !ChangeEvents.Contains(eventType))
            {
                continue;
            }

            BoxItem? file;
            try
            {
                file = entry.Source.Deserialize<BoxItem>(BoxJson.Options);
            }
            catch (JsonException ex)
            {
                logger.LogWarning(ex, "Unreadable Box event source for {EventType}; skipped", eventType);
                continue;
            }

            if (file?.Id is null)
            {
                continue;
            }

            if (!latest.ContainsKey(file.Id))
            {
                order.Add(file.Id);
            }

            latest[file.Id] = (eventType, file);
        }

        var items = new List<SourceItem>();
        var failures = new List<SourceItemFailure>();
        foreach (var id in order)
        {
            var (eventType, file) = latest[id];
            var path = PathOf(file);
            if (eventType == "ITEM_TRASH")
            {
                items.Add(new SourceItem(id, file.Name ?? id, null, file.ModifiedAt, BoxContentTypes.ForName(file.Name), null, null,
                    new Dictionary<string, string> { ["path"] = path }, Deleted: true));
                continue;
            }

            var (item, failure) = await DownloadAsync(call, file, path, cancellationToken);
            if (item is not null)
            {
                items.Add(item);
            }

            if (failure is not null)
            {
                failures.Add(failure);
            }
        }

        var next = new BoxCursor { Mode = BoxCursor.Changes, Stream = nextPosition };
        return new SourcePage(items, failures, Serialize(next), Stage: "reading changes");
    }

    private async Task<(SourceItem? Item, SourceItemFailure? Failure)> DownloadAsync(Call call, BoxItem file, string path, CancellationToken cancellationToken)
    {
        var id = file.Id!;
        if (file.Size > MaxFileBytes)
        {
            return (null, new SourceItemFailure(id, $"{path} is {Megabytes(file.Size.Value)} MB, above the {MaxFileBytes / (1024 * 1024)} MB limit; not downloaded."));
        }

        // Box answers 302 to a pre-signed download URL; HttpClient follows it and drops the Authorization header.
        using var response = await SendAsync(call, $"{ApiBase}/files/{Uri.EscapeDataString(id)}/content", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return (null, new SourceItemFailure(id, $"{path} was deleted or moved before it could be downloaded (HTTP {(int)response.StatusCode})."));
        }

        if (response.StatusCode == HttpStatusCode.Forbidden)
        {
            return (null, new SourceItemFailure(id, $"{path} cannot be downloaded with this connection's permissions (HTTP 403)."));
        }

        EnsureSuccess(response, $"downloading {path}");
        if (response.Content.Headers.ContentLength > MaxFileBytes)
        {
            return (null, new SourceItemFailure(id, $"{path} is {Megabytes(response.Content.Headers.ContentLength.Value)} MB, above the {MaxFileBytes / (1024 * 1024)} MB limit; not downloaded."));
        }

        var content = await ReadCappedAsync(response, cancellationToken);
        if (content is null)
        {
            return (null, new SourceItemFailure(id, $"{path} is above the {MaxFileBytes / (1024 * 1024)} MB limit; download stopped."));
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["path"] = path,
            ["size"] = (file.Size ?? content.LongLength).ToString(CultureInfo.InvariantCulture)
        };
        if (file.Sha1 is { Length: > 0 } sha1)
        {
            metadata["sha1"] = sha1;
        }

        if ((file.FileVersion?.Id ?? file.Etag) is { Length: > 0 } version)
        {
            metadata["version"] = version;
        }

        var author = string.IsNullOrWhiteSpace(file.ModifiedBy?.Name) ? file.ModifiedBy?.Login : file.ModifiedBy.Name;
        return (new SourceItem(id, file.Name ?? id, author, file.ModifiedAt, BoxContentTypes.ForName(file.Name), null, content, metadata), null);
    }

    private static async Task<byte[]?> ReadCappedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream((int)Math.Min(response.Content.Headers.ContentLength ?? 81920, MaxFileBytes));
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxFileBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// Sends with the connection's access token; after a 401 asks once for a refreshed token and retries. Rate
    /// limits and 5xx are retried by the client's resilience handler, not here.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(Call call, string url, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        var token = await tokens.GetAccessTokenAsync(call.ConnectionId, forceRefresh: false, cancellationToken);
        var response = await SendOnceAsync(call.Client, url, token, completion, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        response.Dispose();
        token = await tokens.GetAccessTokenAsync(call.ConnectionId, forceRefresh: true, cancellationToken);
        response = await SendOnceAsync(call.Client, url, token, completion, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            response.Dispose();
            throw new ReauthRequiredException("Box refused the access token even after a refresh; reconnect Box.");
        }

        return response;
    }

    private static async Task<HttpResponseMessage> SendOnceAsync(HttpClient client, string url, string token, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request, completion, cancellationToken);
    }

    private static void EnsureSuccess(HttpResponseMessage response, string what)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var status = (int)response.StatusCode;
        var reason = BoxJson.IsTransient(response.StatusCode) ? "still failing after retries" : "refused";
        throw new HttpRequestException($"Box answered HTTP {status} while {what} ({reason}).", null, response.StatusCode);
    }

    /// <summary>"/Folder/Sub/name" from an event source's path collection (without Box's "All Files" root).</summary>
    private static string PathOf(BoxItem file)
    {
        var folders = file.PathCollection?.Entries?
            .Where(e => e.Id != "0" && !string.IsNullOrEmpty(e.Name))
            .Select(e => e.Name!) ?? [];
        return "/" + string.Join('/', folders.Append(file.Name ?? file.Id ?? ""));
    }

    private static string Megabytes(long bytes) => (bytes / (1024d * 1024d)).ToString("0.#", CultureInfo.InvariantCulture);

    private static BoxCursor ParseCursor(string cursor)
    {
        try
        {
            var state = JsonSerializer.Deserialize<BoxCursor>(cursor, CursorJson);
            if (state is not null && (state.Mode == BoxCursor.Full || state.Mode == BoxCursor.Changes))
            {
                return state;
            }
        }
        catch (JsonException)
        {
        }

        throw new InvalidOperationException($"Not a Box sync cursor: {cursor}");
    }

    private static string Serialize(BoxCursor state) => JsonSerializer.Serialize(state, CursorJson);

    private sealed record Call(HttpClient Client, Guid ConnectionId);
}

/// <summary>
/// A Box run's progress. Full: the stream position noted at the start, the folders still to list (the head is
/// being listed, at <see cref="Offset"/>). Changes: the event stream position to read from.
/// </summary>
internal sealed class BoxCursor
{
    public const string Full = "full";
    public const string Changes = "changes";

    public string Mode { get; set; } = Full;

    public string? Stream { get; set; }

    public List<BoxFolderRef> Queue { get; set; } = [];

    public long Offset { get; set; }

    public BoxCursor Clone() => new() { Mode = Mode, Stream = Stream, Queue = [.. Queue], Offset = Offset };
}

internal sealed record BoxFolderRef(string Id, string Path);
