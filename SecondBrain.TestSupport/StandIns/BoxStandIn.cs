using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace SecondBrain.TestSupport.StandIns;

/// <summary>
/// A Box stand-in on WireMock.Net speaking the parts of the Box API the connector uses, with Box's behaviours that
/// matter: single-use refresh tokens, offset-paged folder listings, 302 downloads, an event stream with positions.
/// </summary>
public sealed class BoxStandIn : IDisposable
{
    public const string RootFolderId = "0";

    private const int EventPositionBase = 1000;

    private readonly WireMockServer _server;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Folder> _folders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredFile> _files = new(StringComparer.Ordinal);
    private readonly List<Dictionary<string, object?>> _events = [];
    private readonly HashSet<string> _codes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _accessTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _refreshTokens = new(StringComparer.Ordinal);
    private readonly HashSet<string> _missingContent = new(StringComparer.Ordinal);
    private long _nextId = 100_000;
    private int _failuresLeft;
    private int _failureStatus;
    private int _failureRetryAfter;
    private int _tokenRequests;
    private int _downloads;
    private int _apiRequests;
    private int _revocations;

    public BoxStandIn()
    {
        _folders[RootFolderId] = new Folder(RootFolderId, "All Files", null);
        _server = WireMockServer.Start();

        Map(Request.Create().WithPath("/api/oauth2/authorize").UsingGet(), Authorize);
        Map(Request.Create().WithPath("/oauth2/token").UsingPost(), Token);
        Map(Request.Create().WithPath("/oauth2/revoke").UsingPost(), Revoke);
        Map(Request.Create().WithPath("/2.0/users/me").UsingGet(), r => Api(r, UsersMe));
        Map(Request.Create().WithPath(new RegexMatcher(@"^/2\.0/folders/[^/]+/items$")).UsingGet(), r => Api(r, FolderItems));
        Map(Request.Create().WithPath(new RegexMatcher(@"^/2\.0/files/[^/]+/content$")).UsingGet(), r => Api(r, FileContent));
        Map(Request.Create().WithPath("/2.0/events").UsingGet(), r => Api(r, Events));
        Map(Request.Create().WithPath(new RegexMatcher(@"^/download/[^/]+$")).UsingGet(), Download);
    }

    public string Url => _server.Url!;

    public string ClientId { get; } = "box-standin-client";

    public string ClientSecret { get; } = "box-standin-secret";

    public string UserLogin { get; set; } = "ada@example.com";

    public string UserName { get; set; } = "Ada Lovelace";

    /// <summary>Requests to POST /oauth2/token, both grants, successful or not.</summary>
    public int TokenRequests => Volatile.Read(ref _tokenRequests);

    /// <summary>File bodies served by /download/{id} (after the API's 302).</summary>
    public int Downloads => Volatile.Read(ref _downloads);

    /// <summary>Requests to /2.0/*, including refused ones.</summary>
    public int ApiRequests => Volatile.Read(ref _apiRequests);

    public int Revocations => Volatile.Read(ref _revocations);

    /// <summary>Integrations:Box:* settings pointing at this stand-in.</summary>
    public Dictionary<string, string> ConfigurationFor(int? pageSize = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Integrations:Box:ClientId"] = ClientId,
            ["Integrations:Box:ClientSecret"] = ClientSecret,
            ["Integrations:Box:AuthorizeEndpoint"] = Url + "/api/oauth2/authorize",
            ["Integrations:Box:TokenEndpoint"] = Url + "/oauth2/token",
            ["Integrations:Box:RevokeEndpoint"] = Url + "/oauth2/revoke",
            ["Integrations:Box:ApiBaseUrl"] = Url + "/2.0",
            ["Integrations:Box:Scopes"] = "root_readonly"
        };
        if (pageSize is { } size)
        {
            settings["Integrations:Box:PageSize"] = size.ToString(CultureInfo.InvariantCulture);
        }

        return settings;
    }

    public string AddFolder(string parentId, string name)
    {
        lock (_gate)
        {
            if (!_folders.ContainsKey(parentId))
            {
                throw new ArgumentException($"No folder {parentId}.", nameof(parentId));
            }

            var id = NewId();
            _folders[id] = new Folder(id, name, parentId);
            RecordEvent("ITEM_CREATE", FolderJson(_folders[id]));
            return id;
        }
    }

    public string AddFile(string folderId, string name, byte[] content)
    {
        lock (_gate)
        {
            if (!_folders.ContainsKey(folderId))
            {
                throw new ArgumentException($"No folder {folderId}.", nameof(folderId));
            }

            var id = NewId();
            var file = new StoredFile(id, name, folderId) { Content = content, ModifiedAt = Now(), VersionId = NewId() };
            _files[id] = file;
            RecordEvent("ITEM_UPLOAD", FileJson(file));
            return id;
        }
    }

    /// <summary>Uploads a new version of a file.</summary>
    public void ModifyFile(string fileId, byte[] content)
    {
        lock (_gate)
        {
            var file = _files[fileId];
            file.Content = content;
            file.Version++;
            file.VersionId = NewId();
            file.ModifiedAt = Now();
            RecordEvent("ITEM_UPLOAD", FileJson(file));
        }
    }

    public void TrashFile(string fileId)
    {
        lock (_gate)
        {
            var file = _files[fileId];
            file.Trashed = true;
            RecordEvent("ITEM_TRASH", FileJson(file));
        }
    }

    /// <summary>Keeps a file in listings while its download answers 404: a file deleted between listing and download.</summary>
    public void RemoveContent(string fileId)
    {
        lock (_gate)
        {
            _missingContent.Add(fileId);
        }
    }

    public void AcceptCode(string code)
    {
        lock (_gate)
        {
            _codes.Add(code);
        }
    }

    public string IssueAuthorizationCode()
    {
        var code = "code-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        AcceptCode(code);
        return code;
    }

    /// <summary>The user revoked the app: every access and refresh token stops working.</summary>
    public void RevokeAll()
    {
        lock (_gate)
        {
            _accessTokens.Clear();
            _refreshTokens.Clear();
        }
    }

    /// <summary>Access tokens expire (API answers 401) while refresh tokens stay valid.</summary>
    public void ExpireAccessTokens()
    {
        lock (_gate)
        {
            _accessTokens.Clear();
        }
    }

    /// <summary>The next <paramref name="count"/> requests (any endpoint) answer <paramref name="status"/> with Retry-After.</summary>
    public void FailNextRequests(int count, int status = 429, int retryAfterSeconds = 1)
    {
        lock (_gate)
        {
            _failuresLeft = count;
            _failureStatus = status;
            _failureRetryAfter = retryAfterSeconds;
        }
    }

    public void Dispose() => _server.Stop();

    private void Map(IRequestBuilder request, Func<IRequestMessage, ResponseMessage> handler) =>
        _server.Given(request).RespondWith(Response.Create().WithCallback(r => Guarded(r, handler)));

    private ResponseMessage Guarded(IRequestMessage request, Func<IRequestMessage, ResponseMessage> handler)
    {
        lock (_gate)
        {
            if (_failuresLeft > 0)
            {
                _failuresLeft--;
                var failure = Json(_failureStatus, new { type = "error", status = _failureStatus, code = _failureStatus == 429 ? "rate_limit_exceeded" : "internal_server_error" });
                failure.AddHeader("Retry-After", _failureRetryAfter.ToString(CultureInfo.InvariantCulture));
                return failure;
            }

            return handler(request);
        }
    }

    private ResponseMessage Authorize(IRequestMessage request)
    {
        var query = Query(request);
        if (query.GetValueOrDefault("client_id") != ClientId || !query.TryGetValue("redirect_uri", out var redirect))
        {
            return Json(400, new { error = "invalid_client", error_description = "Unknown client or missing redirect_uri" });
        }

        // The user "approves" at once: redirect back with a fresh code, as Box does after consent.
        var code = "code-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        _codes.Add(code);
        var separator = redirect.Contains('?') ? '&' : '?';
        var location = $"{redirect}{separator}code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(query.GetValueOrDefault("state") ?? "")}";
        return Redirect(location);
    }

    private ResponseMessage Token(IRequestMessage request)
    {
        Interlocked.Increment(ref _tokenRequests);
        var form = Form(request);
        if (form.GetValueOrDefault("client_id") != ClientId || form.GetValueOrDefault("client_secret") != ClientSecret)
        {
            return Json(400, new { error = "invalid_client", error_description = "The client credentials are not valid" });
        }

        switch (form.GetValueOrDefault("grant_type"))
        {
            case "authorization_code":
                if (form.GetValueOrDefault("code") is not { } code || !_codes.Remove(code))
                {
                    return Json(400, new { error = "invalid_grant", error_description = "Auth code doesn't exist or is invalid for the client" });
                }

                return IssueTokens();
            case "refresh_token":
                // Box refresh tokens work once: the used one is kept, marked, so a replay is refused like Box does.
                if (form.GetValueOrDefault("refresh_token") is not { } refresh || !_refreshTokens.TryGetValue(refresh, out var used) || used)
                {
                    return Json(400, new { error = "invalid_grant", error_description = "Invalid refresh token" });
                }

                _refreshTokens[refresh] = true;
                return IssueTokens();
            default:
                return Json(400, new { error = "unsupported_grant_type", error_description = "Invalid grant_type parameter or parameter missing" });
        }
    }

    private ResponseMessage IssueTokens()
    {
        var access = "access-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
        var refresh = "refresh-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
        _accessTokens.Add(access);
        _refreshTokens[refresh] = false;
        return Json(200, new { access_token = access, expires_in = 3600, restricted_to = Array.Empty<object>(), refresh_token = refresh, token_type = "bearer" });
    }

    private ResponseMessage Revoke(IRequestMessage request)
    {
        Interlocked.Increment(ref _revocations);
        var form = Form(request);
        if (form.GetValueOrDefault("client_id") != ClientId || form.GetValueOrDefault("client_secret") != ClientSecret)
        {
            return Json(400, new { error = "invalid_client", error_description = "The client credentials are not valid" });
        }

        // Revoking either token of a grant ends both; the stand-in does not track grants, so it ends them all.
        if (form.GetValueOrDefault("token") is { } token && (_accessTokens.Contains(token) || _refreshTokens.ContainsKey(token)))
        {
            _accessTokens.Clear();
            _refreshTokens.Clear();
        }

        return new ResponseMessage { StatusCode = 200, Headers = new Dictionary<string, WireMockList<string>>() };
    }

    /// <summary>Latency added to every API call, to make runs long enough to watch, cancel or interrupt.</summary>
    public TimeSpan ResponseDelay { get; set; }

    private ResponseMessage Api(IRequestMessage request, Func<IRequestMessage, ResponseMessage> handler)
    {
        if (ResponseDelay > TimeSpan.Zero)
        {
            Thread.Sleep(ResponseDelay);
        }

        Interlocked.Increment(ref _apiRequests);
        var authorization = Header(request, "Authorization");
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || !_accessTokens.Contains(authorization[7..].Trim()))
        {
            var unauthorized = new ResponseMessage { StatusCode = 401, Headers = new Dictionary<string, WireMockList<string>>() };
            unauthorized.AddHeader("WWW-Authenticate", "Bearer realm=\"Service\", error=\"invalid_token\", error_description=\"The access token provided is invalid.\"");
            return unauthorized;
        }

        return handler(request);
    }

    private ResponseMessage UsersMe(IRequestMessage request) =>
        Json(200, new { type = "user", id = "11446498", name = UserName, login = UserLogin, status = "active" });

    private ResponseMessage FolderItems(IRequestMessage request)
    {
        var folderId = request.Path.Split('/')[3];
        if (!_folders.ContainsKey(folderId))
        {
            return NotFound($"Could not find the specified resource: folder {folderId}");
        }

        var query = Query(request);
        var offset = int.TryParse(query.GetValueOrDefault("offset"), CultureInfo.InvariantCulture, out var o) ? Math.Max(o, 0) : 0;
        var limit = int.TryParse(query.GetValueOrDefault("limit"), CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, 1000) : 100;

        // Box's default order: folders first, then files, each by name.
        var children = _folders.Values.Where(f => f.ParentId == folderId).OrderBy(f => f.Name, StringComparer.Ordinal).Select(FolderJson)
            .Concat(_files.Values.Where(f => f.FolderId == folderId && !f.Trashed).OrderBy(f => f.Name, StringComparer.Ordinal).ThenBy(f => f.Id, StringComparer.Ordinal).Select(FileJson))
            .ToList();

        return Json(200, new
        {
            total_count = children.Count,
            entries = children.Skip(offset).Take(limit),
            offset,
            limit,
            order = new[] { new { by = "type", direction = "ASC" }, new { by = "name", direction = "ASC" } }
        });
    }

    private ResponseMessage FileContent(IRequestMessage request)
    {
        var fileId = request.Path.Split('/')[3];
        if (!_files.TryGetValue(fileId, out var file) || file.Trashed || _missingContent.Contains(fileId))
        {
            return NotFound($"Could not find the specified resource: file {fileId}");
        }

        return Redirect($"{Url}/download/{fileId}?version={file.VersionId}");
    }

    private ResponseMessage Download(IRequestMessage request)
    {
        var fileId = request.Path.Split('/')[2];
        if (!_files.TryGetValue(fileId, out var file) || file.Trashed || _missingContent.Contains(fileId))
        {
            return new ResponseMessage { StatusCode = 404, Headers = new Dictionary<string, WireMockList<string>>() };
        }

        Interlocked.Increment(ref _downloads);
        var response = new ResponseMessage
        {
            StatusCode = 200,
            Headers = new Dictionary<string, WireMockList<string>>(),
            BodyData = new BodyData { DetectedBodyType = BodyType.Bytes, BodyAsBytes = file.Content }
        };
        response.AddHeader("Content-Type", "application/octet-stream");
        return response;
    }

    private ResponseMessage Events(IRequestMessage request)
    {
        var query = Query(request);
        var position = query.GetValueOrDefault("stream_position") ?? "0";
        var current = EventPositionBase + _events.Count;
        if (position == "now")
        {
            return Json(200, new { chunk_size = 0, next_stream_position = current, entries = Array.Empty<object>() });
        }

        var limit = int.TryParse(query.GetValueOrDefault("limit"), CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, 500) : 100;
        var from = long.TryParse(position, CultureInfo.InvariantCulture, out var p) ? Math.Clamp(p - EventPositionBase, 0, _events.Count) : 0;
        var chunk = _events.Skip((int)from).Take(limit).ToList();
        return Json(200, new { chunk_size = chunk.Count, next_stream_position = EventPositionBase + from + chunk.Count, entries = chunk });
    }

    private void RecordEvent(string eventType, Dictionary<string, object?> source) =>
        _events.Add(new Dictionary<string, object?>
        {
            ["type"] = "event",
            ["event_id"] = Guid.NewGuid().ToString(),
            ["event_type"] = eventType,
            ["created_at"] = Now(),
            ["created_by"] = UserJson(),
            ["source"] = source
        });

    private Dictionary<string, object?> FolderJson(Folder folder) => new()
    {
        ["type"] = "folder",
        ["id"] = folder.Id,
        ["etag"] = "0",
        ["sequence_id"] = "0",
        ["name"] = folder.Name,
        ["modified_at"] = Now(),
        ["size"] = 0,
        ["parent"] = ParentJson(folder.ParentId),
        ["path_collection"] = PathCollection(folder.ParentId)
    };

    private Dictionary<string, object?> FileJson(StoredFile file) => new()
    {
        ["type"] = "file",
        ["id"] = file.Id,
        ["etag"] = file.Version.ToString(CultureInfo.InvariantCulture),
        ["sequence_id"] = file.Version.ToString(CultureInfo.InvariantCulture),
        ["name"] = file.Name,
        ["sha1"] = Convert.ToHexString(SHA1.HashData(file.Content)).ToLowerInvariant(),
        ["size"] = file.Content.LongLength,
        ["modified_at"] = file.ModifiedAt,
        ["modified_by"] = UserJson(),
        ["parent"] = ParentJson(file.FolderId),
        ["path_collection"] = PathCollection(file.FolderId),
        ["file_version"] = new Dictionary<string, object?> { ["type"] = "file_version", ["id"] = file.VersionId, ["sha1"] = Convert.ToHexString(SHA1.HashData(file.Content)).ToLowerInvariant() },
        ["item_status"] = file.Trashed ? "trashed" : "active"
    };

    private Dictionary<string, object?> UserJson() => new() { ["type"] = "user", ["id"] = "11446498", ["name"] = UserName, ["login"] = UserLogin };

    private Dictionary<string, object?>? ParentJson(string? parentId) =>
        parentId is null ? null : new() { ["type"] = "folder", ["id"] = parentId, ["name"] = _folders[parentId].Name };

    private Dictionary<string, object?> PathCollection(string? parentId)
    {
        var chain = new List<object>();
        for (var id = parentId; id is not null; id = _folders[id].ParentId)
        {
            chain.Insert(0, new Dictionary<string, object?> { ["type"] = "folder", ["id"] = id, ["name"] = _folders[id].Name });
        }

        return new() { ["total_count"] = chain.Count, ["entries"] = chain };
    }

    private string NewId() => (++_nextId).ToString(CultureInfo.InvariantCulture);

    private static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture);

    private static ResponseMessage NotFound(string message) =>
        Json(404, new { type = "error", status = 404, code = "not_found", message, request_id = Guid.NewGuid().ToString("N") });

    private static ResponseMessage Redirect(string location)
    {
        var response = new ResponseMessage { StatusCode = (int)HttpStatusCode.Found, Headers = new Dictionary<string, WireMockList<string>>() };
        response.AddHeader("Location", location);
        return response;
    }

    private static ResponseMessage Json(int status, object body)
    {
        var response = new ResponseMessage
        {
            StatusCode = status,
            Headers = new Dictionary<string, WireMockList<string>>(),
            BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = JsonSerializer.Serialize(body), Encoding = Encoding.UTF8 }
        };
        response.AddHeader("Content-Type", "application/json");
        return response;
    }

    private static string? Header(IRequestMessage request, string name) =>
        request.Headers?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();

    private static Dictionary<string, string> Query(IRequestMessage request) => ParsePairs(request.RawQuery);

    private static Dictionary<string, string> Form(IRequestMessage request) => ParsePairs(request.Body);

    // Parsed by hand: WireMock splits query values on commas (fields=id,name) and may pre-parse forms differently by version.
    private static Dictionary<string, string> ParsePairs(string? text)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in (text ?? "").TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var key = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? "" : pair[(equals + 1)..];
            pairs[Unescape(key)] = Unescape(value);
        }

        return pairs;
    }

    private static string Unescape(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));

    private sealed record Folder(string Id, string Name, string? ParentId);

    private sealed class StoredFile(string id, string name, string folderId)
    {
        public string Id { get; } = id;

        public string Name { get; } = name;

        public string FolderId { get; } = folderId;

        public byte[] Content { get; set; } = [];

        public int Version { get; set; } = 1;

        public string VersionId { get; set; } = "";

        public string ModifiedAt { get; set; } = "";

        public bool Trashed { get; set; }
    }
}
