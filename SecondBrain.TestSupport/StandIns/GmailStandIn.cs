using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using WireMock.Types;
using WireMock.Util;

namespace SecondBrain.TestSupport.StandIns;

/// <summary>
/// Google's OAuth endpoints and the Gmail REST API (the parts the connector uses) on a local WireMock server, with a
/// mutable mailbox. Thread-safe: the Api and Worker replicas call it concurrently.
/// </summary>
public sealed class GmailStandIn : IDisposable
{
    public const string ClientId = "standin-gmail-client.apps.googleusercontent.com";
    public const string ClientSecret = "standin-gmail-secret";
    public const string EmailAddress = "owner@standin.example";
    public const string Scope = "https://www.googleapis.com/auth/gmail.readonly";
    public const int AccessTokenLifetimeSeconds = 3600;

    private static readonly string[] Topics =
    [
        "quarterly budget review", "release checklist", "onboarding plan", "incident postmortem", "vendor contract",
        "hiring pipeline", "roadmap draft", "customer escalation", "security audit", "offsite logistics"
    ];

    private readonly WireMockServer _server;
    private readonly Lock _gate = new();

    private readonly SortedDictionary<long, StoredMessage> _messagesBySequence = [];
    private readonly Dictionary<string, StoredMessage> _messagesById = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ghosts = new(StringComparer.Ordinal);
    private readonly List<HistoryRecord> _history = [];
    private long _nextSequence = 1;
    private long _historyId = 100_000;
    private long _historyFloor;

    // Authorization code -> the PKCE challenge it was issued for (null: any verifier) and its redirect URI.
    private readonly Dictionary<string, (string? Challenge, string? RedirectUri)> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _accessTokens = new(StringComparer.Ordinal);
    private readonly HashSet<string> _refreshTokens = new(StringComparer.Ordinal);

    private int _failuresLeft;
    private int _failureStatus = 429;
    private int _failureRetryAfter = 1;

    private int _authorizeRequests;
    private int _tokenRequests;
    private int _codeGrants;
    private int _refreshGrants;
    private int _revokeRequests;
    private int _profileRequests;
    private int _listRequests;
    private int _messageGets;
    private int _historyRequests;
    private int _unauthorized;
    private int _injectedFailures;

    public GmailStandIn()
    {
        // A bounded request log: integration runs send thousands of requests.
        _server = WireMockServer.Start(new WireMockServerSettings { MaxRequestLogCount = 100 });
        _server
            .Given(Request.Create().WithPath(new WildcardMatcher("*")).UsingAnyMethod())
            .RespondWith(Response.Create().WithCallback(Handle));
    }

    public string Url => _server.Url!;

    public string AuthorizeEndpoint => Url + "/o/oauth2/v2/auth";

    public string TokenEndpoint => Url + "/token";

    public string RevokeEndpoint => Url + "/revoke";

    public int AuthorizeRequests => Volatile.Read(ref _authorizeRequests);

    /// <summary>All POSTs to the token endpoint, whatever the grant and outcome.</summary>
    public int TokenRequests => Volatile.Read(ref _tokenRequests);

    public int CodeGrants => Volatile.Read(ref _codeGrants);

    public int RefreshGrants => Volatile.Read(ref _refreshGrants);

    public int RevokeRequests => Volatile.Read(ref _revokeRequests);

    public int ProfileRequests => Volatile.Read(ref _profileRequests);

    public int ListRequests => Volatile.Read(ref _listRequests);

    public int MessageGets => Volatile.Read(ref _messageGets);

    public int HistoryRequests => Volatile.Read(ref _historyRequests);

    /// <summary>API calls answered 401 (missing, expired or revoked access token).</summary>
    public int UnauthorizedResponses => Volatile.Read(ref _unauthorized);

    /// <summary>API calls answered with a failure from <see cref="FailNextRequests"/>.</summary>
    public int InjectedFailures => Volatile.Read(ref _injectedFailures);

    /// <summary>The mailbox's current historyId, as the profile reports it.</summary>
    public string HistoryId
    {
        get
        {
            lock (_gate)
            {
                return _historyId.ToString(CultureInfo.InvariantCulture);
            }
        }
    }

    public int MessageCount
    {
        get
        {
            lock (_gate)
            {
                return _messagesById.Count;
            }
        }
    }

    public IReadOnlyList<string> MessageIds
    {
        get
        {
            lock (_gate)
            {
                return _messagesBySequence.Values.Select(m => m.Id).ToList();
            }
        }
    }

    /// <summary>The <c>Integrations:Gmail:*</c> settings that point the app at this stand-in.</summary>
    public Dictionary<string, string> ConfigurationFor(string section = "Integrations:Gmail") => new()
    {
        [$"{section}:ClientId"] = ClientId,
        [$"{section}:ClientSecret"] = ClientSecret,
        [$"{section}:AuthorizeEndpoint"] = AuthorizeEndpoint,
        [$"{section}:TokenEndpoint"] = TokenEndpoint,
        [$"{section}:RevokeEndpoint"] = RevokeEndpoint,
        [$"{section}:ApiBaseUrl"] = Url,
        [$"{section}:Scopes"] = Scope
    };

    /// <summary>A single-use authorization code accepted with any PKCE verifier and redirect URI.</summary>
    public string IssueAuthorizationCode()
    {
        var code = "4/" + RandomToken();
        AcceptCode(code);
        return code;
    }

    /// <summary>Makes the token endpoint accept <paramref name="code"/> once.</summary>
    public void AcceptCode(string code)
    {
        lock (_gate)
        {
            _codes[code] = (null, null);
        }
    }

    /// <summary>An access and refresh token pair, as if the user had just consented (no OAuth round trip).</summary>
    public (string AccessToken, string RefreshToken) IssueTokens()
    {
        lock (_gate)
        {
            var refresh = "1//" + RandomToken();
            _refreshTokens.Add(refresh);
            return (NewAccessTokenLocked(), refresh);
        }
    }

    /// <summary>Current access tokens stop working (API calls answer 401); refresh tokens still work.</summary>
    public void ExpireAccessTokens()
    {
        lock (_gate)
        {
            _accessTokens.Clear();
        }
    }

    /// <summary>The user revoked the app: refreshes answer invalid_grant and API calls 401.</summary>
    public void RevokeAll()
    {
        lock (_gate)
        {
            _accessTokens.Clear();
            _refreshTokens.Clear();
            _codes.Clear();
        }
    }

    /// <summary>Adds <paramref name="count"/> generated messages (distinct subjects, senders, dates); returns their ids.</summary>
    public IReadOnlyList<string> AddMessages(int count)
    {
        var ids = new List<string>(count);
        lock (_gate)
        {
            for (var i = 0; i < count; i++)
            {
                var sequence = _nextSequence++;
                var id = IdFor(sequence);
                var date = new DateTimeOffset(2024, 1, 1, 8, 0, 0, TimeSpan.Zero).AddHours(sequence);
                var raw = GenerateMessage(sequence, date);
                AddLocked(new StoredMessage(sequence, id, id, raw, date, ["INBOX", sequence % 3 == 0 ? "IMPORTANT" : "CATEGORY_PERSONAL"]));
                ids.Add(id);
            }
        }

        return ids;
    }

    /// <summary>Adds a message with exactly these bytes (for malformed or hand-written messages).</summary>
    public void AddRawMessage(string id, byte[] raw)
    {
        lock (_gate)
        {
            AddLocked(new StoredMessage(_nextSequence++, id, id, raw, DateTimeOffset.UtcNow, ["INBOX"]));
        }
    }

    /// <summary>A message that is listed but answers 404 when fetched, as if deleted between list and get.</summary>
    public void AddGhostMessage(string id)
    {
        lock (_gate)
        {
            AddLocked(new StoredMessage(_nextSequence++, id, id, [], DateTimeOffset.UtcNow, ["INBOX"]));
            _ghosts.Add(id);
        }
    }

    /// <summary>Deletes a message permanently and records the deletion in the history.</summary>
    public bool DeleteMessage(string id)
    {
        lock (_gate)
        {
            if (!_messagesById.Remove(id, out var message))
            {
                return false;
            }

            _messagesBySequence.Remove(message.Sequence);
            _history.Add(new HistoryRecord(++_historyId, id, message.ThreadId, Deleted: true));
            return true;
        }
    }

    /// <summary>History older than now is gone: history.list from any current or older historyId answers 404.</summary>
    public void ExpireHistory()
    {
        lock (_gate)
        {
            _historyFloor = _historyId + 1;
            _history.Clear();
        }
    }

    /// <summary>The next <paramref name="count"/> Gmail API calls fail with <paramref name="status"/> (and Retry-After).</summary>
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

    private IResponseMessage Handle(IRequestMessage request)
    {
        try
        {
            var path = request.Path.TrimEnd('/');
            var method = request.Method.ToUpperInvariant();
            return (method, path) switch
            {
                ("GET", "/o/oauth2/v2/auth") => Authorize(request),
                ("POST", "/token") => Token(request),
                ("POST", "/revoke") => Revoke(request),
                (_, _) when path.StartsWith("/gmail/v1/users/me/", StringComparison.Ordinal) => Api(request, method, path),
                _ => GoogleError(404, "NOT_FOUND", $"No stand-in route for {method} {path}.")
            };
        }
        catch (Exception ex)
        {
            return GoogleError(500, "INTERNAL", "Stand-in failure: " + ex.Message);
        }
    }

    /// <summary>Consents at once and redirects back with a code bound to the PKCE challenge and redirect URI.</summary>
    private ResponseMessage Authorize(IRequestMessage request)
    {
        Interlocked.Increment(ref _authorizeRequests);
        var query = ParseForm(request.RawQuery);
        var redirect = query.GetValueOrDefault("redirect_uri");
        if (query.GetValueOrDefault("client_id") != ClientId || string.IsNullOrEmpty(redirect))
        {
            return Json(400, new JsonObject { ["error"] = "invalid_request", ["error_description"] = "Unknown client or missing redirect_uri." });
        }

        if (query.GetValueOrDefault("response_type") != "code" || query.GetValueOrDefault("code_challenge_method") != "S256"
            || string.IsNullOrEmpty(query.GetValueOrDefault("code_challenge")))
        {
            return Json(400, new JsonObject { ["error"] = "invalid_request", ["error_description"] = "PKCE S256 and response_type=code are required." });
        }

        var code = "4/" + RandomToken();
        lock (_gate)
        {
            _codes[code] = (query["code_challenge"], redirect);
        }

        var location = redirect + (redirect.Contains('?') ? '&' : '?') + "code=" + Uri.EscapeDataString(code)
            + "&scope=" + Uri.EscapeDataString(Scope);
        if (query.TryGetValue("state", out var state))
        {
            location += "&state=" + Uri.EscapeDataString(state);
        }

        var response = new ResponseMessage { StatusCode = 302, Headers = new Dictionary<string, WireMockList<string>>() };
        response.AddHeader("Location", location);
        return response;
    }

    /// <summary>Latency of the token endpoint: longer than the client's timeout makes it unreachable in effect.</summary>
    public TimeSpan TokenEndpointDelay { get; set; }

    private ResponseMessage Token(IRequestMessage request)
    {
        Interlocked.Increment(ref _tokenRequests);
        if (TokenEndpointDelay > TimeSpan.Zero)
        {
            Thread.Sleep(TokenEndpointDelay);
        }

        var form = ReadForm(request);
        if (form.GetValueOrDefault("client_id") != ClientId || form.GetValueOrDefault("client_secret") != ClientSecret)
        {
            return TokenError(401, "invalid_client", "The OAuth client was not found.");
        }

        switch (form.GetValueOrDefault("grant_type"))
        {
            case "authorization_code":
                Interlocked.Increment(ref _codeGrants);
                lock (_gate)
                {
                    var code = form.GetValueOrDefault("code") ?? "";
                    if (!_codes.Remove(code, out var issued))
                    {
                        return TokenError(400, "invalid_grant", "Malformed auth code.");
                    }

                    if (issued.Challenge is not null && Challenge(form.GetValueOrDefault("code_verifier") ?? "") != issued.Challenge)
                    {
                        return TokenError(400, "invalid_grant", "Invalid code verifier.");
                    }

                    if (issued.RedirectUri is not null && form.GetValueOrDefault("redirect_uri") != issued.RedirectUri)
                    {
                        return TokenError(400, "redirect_uri_mismatch", "Bad Request");
                    }

                    var refresh = "1//" + RandomToken();
                    _refreshTokens.Add(refresh);
                    return TokenResponse(NewAccessTokenLocked(), refresh);
                }

            case "refresh_token":
                Interlocked.Increment(ref _refreshGrants);
                lock (_gate)
                {
                    if (!_refreshTokens.Contains(form.GetValueOrDefault("refresh_token") ?? ""))
                    {
                        return TokenError(400, "invalid_grant", "Token has been expired or revoked.");
                    }

                    // Like Google: no new refresh token on refresh.
                    return TokenResponse(NewAccessTokenLocked(), refreshToken: null);
                }

            default:
                return TokenError(400, "unsupported_grant_type", "Invalid grant_type.");
        }
    }

    private ResponseMessage Revoke(IRequestMessage request)
    {
        Interlocked.Increment(ref _revokeRequests);
        var token = ReadForm(request).GetValueOrDefault("token") ?? "";
        lock (_gate)
        {
            // Google revokes the whole grant whichever of its tokens is presented; the stand-in has one grant per test.
            if (_refreshTokens.Remove(token) || _accessTokens.Remove(token))
            {
                _accessTokens.Clear();
                return Json(200, new JsonObject());
            }
        }

        return TokenError(400, "invalid_token", "Token expired or revoked.");
    }

    /// <summary>Latency added to every Gmail API call, to make runs long enough to watch, cancel or interrupt.</summary>
    public TimeSpan ResponseDelay { get; set; }

    private ResponseMessage Api(IRequestMessage request, string method, string path)
    {
        if (ResponseDelay > TimeSpan.Zero)
        {
            Thread.Sleep(ResponseDelay);
        }

        lock (_gate)
        {
            if (_failuresLeft > 0)
            {
                _failuresLeft--;
                Interlocked.Increment(ref _injectedFailures);
                var failure = GoogleError(_failureStatus, _failureStatus == 429 ? "RESOURCE_EXHAUSTED" : "UNAVAILABLE",
                    _failureStatus == 429 ? "Resource has been exhausted (e.g. check quota)." : "The service is currently unavailable.");
                failure.AddHeader("Retry-After", _failureRetryAfter.ToString(CultureInfo.InvariantCulture));
                return failure;
            }
        }

        if (!IsAuthorized(request))
        {
            Interlocked.Increment(ref _unauthorized);
            var unauthorized = GoogleError(401, "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
            unauthorized.AddHeader("WWW-Authenticate", "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"");
            return unauthorized;
        }

        if (method != "GET")
        {
            return GoogleError(405, "METHOD_NOT_ALLOWED", "The stand-in mailbox is read-only over HTTP.");
        }

        var query = ParseForm(request.RawQuery);
        const string messagesPrefix = "/gmail/v1/users/me/messages/";
        return path switch
        {
            "/gmail/v1/users/me/profile" => Profile(),
            "/gmail/v1/users/me/messages" => ListMessages(query),
            "/gmail/v1/users/me/history" => ListHistory(query),
            _ when path.StartsWith(messagesPrefix, StringComparison.Ordinal) => GetMessage(Uri.UnescapeDataString(path[messagesPrefix.Length..]), query),
            _ => GoogleError(404, "NOT_FOUND", "Requested entity was not found.")
        };
    }

    private ResponseMessage Profile()
    {
        Interlocked.Increment(ref _profileRequests);
        lock (_gate)
        {
            return Json(200, new JsonObject
            {
                ["emailAddress"] = EmailAddress,
                ["messagesTotal"] = _messagesById.Count,
                ["threadsTotal"] = _messagesById.Count,
                ["historyId"] = _historyId.ToString(CultureInfo.InvariantCulture)
            });
        }
    }

    /// <summary>Newest first, like Gmail. The page token is the sequence to continue below, so additions never shift a page.</summary>
    private ResponseMessage ListMessages(Dictionary<string, string> query)
    {
        Interlocked.Increment(ref _listRequests);
        var pageSize = PageSize(query, fallback: 100);
        long below = long.MaxValue;
        if (query.TryGetValue("pageToken", out var token) && !long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out below))
        {
            return GoogleError(400, "INVALID_ARGUMENT", "Invalid pageToken.");
        }

        lock (_gate)
        {
            var remaining = _messagesBySequence.Values.Reverse().Where(m => m.Sequence <= below).Take(pageSize + 1).ToList();
            var body = new JsonObject { ["resultSizeEstimate"] = _messagesById.Count };
            if (remaining.Count > 0)
            {
                body["messages"] = new JsonArray(remaining.Take(pageSize)
                    .Select(m => (JsonNode)new JsonObject { ["id"] = m.Id, ["threadId"] = m.ThreadId }).ToArray());
            }

            if (remaining.Count > pageSize)
            {
                body["nextPageToken"] = remaining[pageSize].Sequence.ToString(CultureInfo.InvariantCulture);
            }

            return Json(200, body);
        }
    }

    private ResponseMessage GetMessage(string id, Dictionary<string, string> query)
    {
        Interlocked.Increment(ref _messageGets);
        StoredMessage? message;
        lock (_gate)
        {
            if (!_messagesById.TryGetValue(id, out message) || _ghosts.Contains(id))
            {
                return GoogleError(404, "NOT_FOUND", "Requested entity was not found.");
            }
        }

        var body = new JsonObject
        {
            ["id"] = message.Id,
            ["threadId"] = message.ThreadId,
            ["labelIds"] = new JsonArray(message.Labels.Select(l => (JsonNode)JsonValue.Create(l)).ToArray()),
            ["snippet"] = "",
            ["sizeEstimate"] = message.Raw.Length,
            ["historyId"] = HistoryId,
            ["internalDate"] = message.Date.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)
        };
        if (query.GetValueOrDefault("format") == "raw")
        {
            // Real Gmail sends base64url; leaving the padding off exercises the reader's decoder.
            body["raw"] = Base64Url.EncodeToString(message.Raw);
        }

        return Json(200, body);
    }

    private ResponseMessage ListHistory(Dictionary<string, string> query)
    {
        Interlocked.Increment(ref _historyRequests);
        if (!query.TryGetValue("startHistoryId", out var startText) || !long.TryParse(startText, NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            return GoogleError(400, "INVALID_ARGUMENT", "Invalid startHistoryId.");
        }

        var pageSize = PageSize(query, fallback: 100);
        long from = 0;
        if (query.TryGetValue("pageToken", out var token) && !long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out from))
        {
            return GoogleError(400, "INVALID_ARGUMENT", "Invalid pageToken.");
        }

        var types = query.GetValueOrDefault("historyTypes")?.Split(',') ?? ["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"];
        lock (_gate)
        {
            if (start < _historyFloor)
            {
                return GoogleError(404, "NOT_FOUND", "Requested entity was not found.");
            }

            var records = _history
                .Where(r => r.Id > start && r.Id >= from)
                .Where(r => types.Contains(r.Deleted ? "messageDeleted" : "messageAdded"))
                .Take(pageSize + 1)
                .ToList();
            var body = new JsonObject { ["historyId"] = _historyId.ToString(CultureInfo.InvariantCulture) };
            if (records.Count > 0)
            {
                body["history"] = new JsonArray(records.Take(pageSize).Select(r => (JsonNode)r.ToJson()).ToArray());
            }

            if (records.Count > pageSize)
            {
                body["nextPageToken"] = records[pageSize].Id.ToString(CultureInfo.InvariantCulture);
            }

            return Json(200, body);
        }
    }

    private bool IsAuthorized(IRequestMessage request)
    {
        var header = Header(request, "Authorization");
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        lock (_gate)
        {
            return _accessTokens.TryGetValue(header["Bearer ".Length..].Trim(), out var expires) && expires > DateTimeOffset.UtcNow;
        }
    }

    private void AddLocked(StoredMessage message)
    {
        if (!_messagesById.TryAdd(message.Id, message))
        {
            throw new InvalidOperationException($"Message {message.Id} already exists.");
        }

        _messagesBySequence.Add(message.Sequence, message);
        _history.Add(new HistoryRecord(++_historyId, message.Id, message.ThreadId, Deleted: false));
    }

    private string NewAccessTokenLocked()
    {
        var token = "ya29." + RandomToken();
        _accessTokens[token] = DateTimeOffset.UtcNow.AddSeconds(AccessTokenLifetimeSeconds);
        return token;
    }

    private static string IdFor(long sequence) => (0x18c0_0000_0000_0000L + sequence * 7919).ToString("x16", CultureInfo.InvariantCulture);

    private static byte[] GenerateMessage(long sequence, DateTimeOffset date)
    {
        var topic = Topics[sequence % Topics.Length];
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"From: Sender {sequence} <sender{sequence}@example.com>\r\n")
            .Append(CultureInfo.InvariantCulture, $"To: Owner <{EmailAddress}>\r\n")
            .Append(CultureInfo.InvariantCulture, $"Subject: Stand-in message {sequence}: {topic}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Date: {date.ToString("ddd, dd MMM yyyy HH:mm:ss +0000", CultureInfo.InvariantCulture)}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Message-ID: <standin-{sequence}@mail.standin.example>\r\n")
            .Append("MIME-Version: 1.0\r\n")
            .Append("Content-Type: text/plain; charset=utf-8\r\n")
            .Append("Content-Transfer-Encoding: 7bit\r\n")
            .Append("\r\n")
            .Append(CultureInfo.InvariantCulture, $"Hello,\r\n\r\nThis is message {sequence} about the {topic}.\r\n")
            .Append(CultureInfo.InvariantCulture, $"Sender {sequence} owns the follow-up.\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static string Challenge(string verifier) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    private static string RandomToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));

    private static int PageSize(Dictionary<string, string> query, int fallback) =>
        query.TryGetValue("maxResults", out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0
            ? Math.Min(size, 500)
            : fallback;

    private static string? Header(IRequestMessage request, string name) =>
        request.Headers?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();

    private static Dictionary<string, string> ReadForm(IRequestMessage request) => ParseForm(request.Body);

    /// <summary>Repeated keys (historyTypes) are joined with commas.</summary>
    private static Dictionary<string, string> ParseForm(string? text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in (text ?? "").TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = pair.IndexOf('=');
            var key = Decode(separator < 0 ? pair : pair[..separator]);
            var value = separator < 0 ? "" : Decode(pair[(separator + 1)..]);
            values[key] = values.TryGetValue(key, out var existing) ? existing + "," + value : value;
        }

        return values;

        static string Decode(string part) => Uri.UnescapeDataString(part.Replace('+', ' '));
    }

    private static ResponseMessage TokenResponse(string accessToken, string? refreshToken)
    {
        var body = new JsonObject
        {
            ["access_token"] = accessToken,
            ["expires_in"] = AccessTokenLifetimeSeconds,
            ["scope"] = Scope,
            ["token_type"] = "Bearer"
        };
        if (refreshToken is not null)
        {
            body["refresh_token"] = refreshToken;
        }

        return Json(200, body);
    }

    private static ResponseMessage TokenError(int status, string error, string description) =>
        Json(status, new JsonObject { ["error"] = error, ["error_description"] = description });

    private static ResponseMessage GoogleError(int status, string googleStatus, string message) => Json(status, new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["code"] = status,
            ["message"] = message,
            ["errors"] = new JsonArray(new JsonObject { ["message"] = message, ["domain"] = "global", ["reason"] = googleStatus.ToLowerInvariant() }),
            ["status"] = googleStatus
        }
    });

    private static ResponseMessage Json(int status, JsonNode body)
    {
        var response = new ResponseMessage
        {
            StatusCode = status,
            Headers = new Dictionary<string, WireMockList<string>>(),
            BodyData = new BodyData
            {
                BodyAsString = body.ToJsonString(JsonOptions),
                DetectedBodyType = BodyType.String,
                Encoding = Encoding.UTF8
            }
        };
        response.AddHeader("Content-Type", "application/json; charset=UTF-8");
        return response;
    }

    private static readonly JsonSerializerOptions JsonOptions = new();

    private sealed record StoredMessage(long Sequence, string Id, string ThreadId, byte[] Raw, DateTimeOffset Date, string[] Labels);

    private sealed record HistoryRecord(long Id, string MessageId, string ThreadId, bool Deleted)
    {
        public JsonObject ToJson()
        {
            var message = new JsonObject { ["id"] = MessageId, ["threadId"] = ThreadId };
            return new JsonObject
            {
                ["id"] = Id.ToString(CultureInfo.InvariantCulture),
                ["messages"] = new JsonArray(message.DeepClone()),
                [Deleted ? "messagesDeleted" : "messagesAdded"] = new JsonArray(new JsonObject { ["message"] = message })
            };
        }
    }
}
