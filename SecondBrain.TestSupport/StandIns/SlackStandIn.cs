using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.WebUtilities;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace SecondBrain.TestSupport.StandIns;

/// <summary>
/// A Slack workspace on a local port speaking the real Web API shapes: <c>POST /api/oauth.v2.access</c> (codes and
/// token rotation), <c>/api/auth.revoke</c>, <c>/api/users.list</c>, <c>/api/conversations.list</c>,
/// <c>/api/conversations.history</c> and <c>/api/conversations.replies</c> with cursor paging that honours
/// <c>limit</c>. Errors are HTTP 200 with <c>{"ok":false,"error":...}</c> as Slack does; injected failures are
/// HTTP 429 (with Retry-After) or 5xx. Thread-safe: several processes may call it at once.
/// </summary>
public sealed class SlackStandIn : IDisposable
{
    private const long FirstTimestamp = 1_700_000_000;

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private static readonly (string Id, string Name)[] DefaultUsers =
        [("U0ADA0001", "Ada Lovelace"), ("U0GRACE02", "Grace Hopper"), ("U0ALAN003", "Alan Turing")];

    private readonly WireMockServer _server;
    private readonly Lock _gate = new();
    private readonly List<User> _users = [];
    private readonly List<Channel> _channels = [];
    private readonly Dictionary<string, string?> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _accessTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _refreshTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);
    private long _clock;
    private int _failuresLeft;
    private int _failureStatus;
    private int _failureRetryAfter;

    public SlackStandIn(string teamName = "Stand-in Workspace")
    {
        TeamName = teamName;
        _server = WireMockServer.Start();
        _server
            .Given(Request.Create().WithPath(new WildcardMatcher("/api/*")).UsingAnyMethod())
            .RespondWith(Response.Create().WithCallback(Handle));
    }

    public string Url => _server.Urls[0];

    public string ClientId { get; } = "stand-in-client-id";

    public string ClientSecret { get; } = "stand-in-client-secret";

    public string TeamId { get; } = "T0STANDIN";

    public string TeamName { get; }

    /// <summary>When on (the default), code exchanges and refreshes return refresh_token and expires_in.</summary>
    public bool TokenRotation { get; set; } = true;

    public int ExpiresInSeconds { get; set; } = 43_200;

    /// <summary>The redirect_uri sent with the last code exchange.</summary>
    public string? LastRedirectUri { get; private set; }

    /// <summary>Settings for <c>IntegrationsOptions.Slack</c> pointing at this stand-in.</summary>
    public Dictionary<string, string> ConfigurationFor(string section = "Integrations:Slack") => new()
    {
        [$"{section}:ClientId"] = ClientId,
        [$"{section}:ClientSecret"] = ClientSecret,
        [$"{section}:AuthorizeEndpoint"] = Url + "/oauth/v2/authorize",
        [$"{section}:TokenEndpoint"] = Url + "/api/oauth.v2.access",
        [$"{section}:RevokeEndpoint"] = Url + "/api/auth.revoke",
        [$"{section}:ApiBaseUrl"] = Url + "/api"
    };

    /// <summary>Makes <paramref name="code"/> exchangeable once; with a challenge the exchange must bring the PKCE verifier.</summary>
    public void AcceptCode(string code, string? codeChallenge = null)
    {
        lock (_gate)
        {
            _codes[code] = codeChallenge;
        }
    }

    /// <summary>What the browser would bring back from /oauth/v2/authorize after consent.</summary>
    public string IssueAuthorizationCode(string? codeChallenge = null)
    {
        var code = "code-" + RandomNumberGenerator.GetHexString(16, lowercase: true);
        AcceptCode(code, codeChallenge);
        return code;
    }

    /// <summary>A valid bot token without the OAuth dance, for readers under test.</summary>
    public string IssueAccessToken()
    {
        lock (_gate)
        {
            var token = "xoxb-" + RandomNumberGenerator.GetHexString(24, lowercase: true);
            _accessTokens[token] = false;
            return token;
        }
    }

    public void AddUser(string id, string name)
    {
        lock (_gate)
        {
            _users.RemoveAll(user => user.Id == id);
            _users.Add(new User(id, name));
        }
    }

    /// <summary>
    /// A channel with <paramref name="messages"/> top-level messages (by the users round-robin, some mentioning
    /// another user), the first <paramref name="threadsWithReplies"/> of them carrying
    /// <paramref name="repliesPerThread"/> replies each, plus one channel_join system message that is not counted.
    /// </summary>
    /// <returns>The channel id.</returns>
    public string AddChannel(
        string name,
        int messages,
        int threadsWithReplies = 0,
        int repliesPerThread = 3,
        bool isPrivate = false,
        bool isMember = true,
        bool isArchived = false)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threadsWithReplies, messages);
        lock (_gate)
        {
            EnsureUsers();
            var channel = new Channel($"C{_channels.Count + 1:D8}", name, isPrivate, isMember, isArchived);
            _channels.Add(channel);
            channel.Messages.Add(new Message(NextTs(), _users[0].Id, $"<@{_users[0].Id}> has joined the channel", "channel_join", null));
            AppendMessages(channel, messages, threadsWithReplies, repliesPerThread);
            return channel.Id;
        }
    }

    /// <summary>More top-level messages in a channel (by id or name), newer than everything before.</summary>
    public void AddMessages(string channel, int count)
    {
        lock (_gate)
        {
            EnsureUsers();
            AppendMessages(Find(channel) ?? throw new ArgumentException($"No channel {channel}.", nameof(channel)), count, 0, 0);
        }
    }

    /// <summary>One message (a reply when <paramref name="threadTs"/> is given); returns its ts.</summary>
    public string AddMessage(string channel, string userId, string text, string? threadTs = null, string? subtype = null)
    {
        lock (_gate)
        {
            var target = Find(channel) ?? throw new ArgumentException($"No channel {channel}.", nameof(channel));
            var message = new Message(NextTs(), userId, text, subtype, threadTs);
            target.Messages.Add(message);
            return message.Ts;
        }
    }

    /// <summary>Messages a reader should find: top-level non-system messages and replies, in one channel or all.</summary>
    public int MessageCount(string? channel = null)
    {
        lock (_gate)
        {
            return _channels.Where(c => channel is null || c.Id == channel || c.Name == channel)
                .Sum(c => c.Messages.Count(m => m.Subtype is null));
        }
    }

    /// <summary>The app is removed from the channel: its history answers not_in_channel.</summary>
    public void RemoveFromChannel(string channel)
    {
        lock (_gate)
        {
            (Find(channel) ?? throw new ArgumentException($"No channel {channel}.", nameof(channel))).IsMember = false;
        }
    }

    /// <summary>The workspace uninstalls the app: every token issued so far answers token_revoked.</summary>
    public void RevokeAll()
    {
        lock (_gate)
        {
            foreach (var token in _accessTokens.Keys.ToList())
            {
                _accessTokens[token] = true;
            }

            foreach (var token in _refreshTokens.Keys.ToList())
            {
                _refreshTokens[token] = true;
            }
        }
    }

    public bool IsRevoked(string accessToken)
    {
        lock (_gate)
        {
            return _accessTokens.GetValueOrDefault(accessToken, true);
        }
    }

    /// <summary>The next <paramref name="count"/> requests (any method) fail with this status; 429 carries Retry-After.</summary>
    public void FailNextRequests(int count, int status = 429, int retryAfterSeconds = 1)
    {
        lock (_gate)
        {
            _failuresLeft = count;
            _failureStatus = status;
            _failureRetryAfter = retryAfterSeconds;
        }
    }

    /// <summary>Requests received for one method (e.g. "conversations.history"), failed ones included.</summary>
    public int Calls(string method)
    {
        lock (_gate)
        {
            return _calls.GetValueOrDefault(method);
        }
    }

    public int TotalCalls
    {
        get
        {
            lock (_gate)
            {
                return _calls.Values.Sum();
            }
        }
    }

    public IReadOnlyDictionary<string, int> CallCounts
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, int>(_calls);
            }
        }
    }

    public void ResetCallCounts()
    {
        lock (_gate)
        {
            _calls.Clear();
        }
    }

    public void Dispose()
    {
        _server.Stop();
        _server.Dispose();
    }

    /// <summary>Latency added to every call, to make runs long enough to watch, cancel or interrupt.</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>Channels in the workspace.</summary>
    public int ChannelCount
    {
        get
        {
            lock (_gate)
            {
                return _channels.Count;
            }
        }
    }

    private IResponseMessage Handle(IRequestMessage request)
    {
        if (ResponseDelay > TimeSpan.Zero)
        {
            Thread.Sleep(ResponseDelay);
        }

        var method = request.Path["/api/".Length..];
        var arguments = ArgumentsOf(request);
        lock (_gate)
        {
            _calls[method] = _calls.GetValueOrDefault(method) + 1;
            if (_failuresLeft > 0)
            {
                _failuresLeft--;
                var failure = Reply(new { ok = false, error = _failureStatus == 429 ? "ratelimited" : "internal_error" }, _failureStatus);
                if (_failureStatus == 429)
                {
                    failure.AddHeader("Retry-After", _failureRetryAfter.ToString(CultureInfo.InvariantCulture));
                }

                return failure;
            }

            if (method == "oauth.v2.access")
            {
                return TokenEndpoint(request, arguments);
            }

            var token = BearerToken(request) ?? arguments.GetValueOrDefault("token");
            if (token is null)
            {
                return Error("not_authed");
            }

            if (!_accessTokens.TryGetValue(token, out var revoked))
            {
                return Error("invalid_auth");
            }

            if (revoked)
            {
                return Error("token_revoked");
            }

            try
            {
                return method switch
                {
                    "auth.revoke" => Revoke(token),
                    "auth.test" => Reply(new { ok = true, team = TeamName, team_id = TeamId, url = Url + "/" }),
                    "users.list" => UsersList(arguments),
                    "conversations.list" => ConversationsList(arguments),
                    "conversations.history" => History(arguments),
                    "conversations.replies" => Replies(arguments),
                    _ => Error("unknown_method")
                };
            }
            catch (InvalidCursorException)
            {
                return Error("invalid_cursor");
            }
        }
    }

    private ResponseMessage TokenEndpoint(IRequestMessage request, Dictionary<string, string> arguments)
    {
        var (clientId, clientSecret) = ClientCredentials(request, arguments);
        if (clientId != ClientId)
        {
            return Error("invalid_client_id");
        }

        if (clientSecret != ClientSecret)
        {
            return Error("bad_client_secret");
        }

        if (arguments.GetValueOrDefault("grant_type") == "refresh_token")
        {
            var refreshToken = arguments.GetValueOrDefault("refresh_token");
            if (refreshToken is null || !_refreshTokens.TryGetValue(refreshToken, out var revoked) || revoked)
            {
                return Error("invalid_refresh_token");
            }

            return IssueTokens();
        }

        var code = arguments.GetValueOrDefault("code");
        if (code is null || !_codes.Remove(code, out var challenge))
        {
            return Error("invalid_code");
        }

        if (challenge is not null)
        {
            var verifier = arguments.GetValueOrDefault("code_verifier") ?? "";
            var expected = WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
            if (expected != challenge)
            {
                return Error("invalid_code_verifier");
            }
        }

        LastRedirectUri = arguments.GetValueOrDefault("redirect_uri");
        return IssueTokens();
    }

    private ResponseMessage IssueTokens()
    {
        var accessToken = (TokenRotation ? "xoxe.xoxb-" : "xoxb-") + RandomNumberGenerator.GetHexString(24, lowercase: true);
        _accessTokens[accessToken] = false;
        string? refreshToken = null;
        if (TokenRotation)
        {
            refreshToken = "xoxe-1-" + RandomNumberGenerator.GetHexString(32, lowercase: true);
            _refreshTokens[refreshToken] = false;
        }

        return Reply(new
        {
            ok = true,
            app_id = "A0STANDIN",
            authed_user = new { id = DefaultUsers[0].Id },
            scope = "channels:history,channels:read,groups:history,groups:read,users:read",
            token_type = "bot",
            access_token = accessToken,
            bot_user_id = "U0STANDBOT",
            refresh_token = refreshToken,
            expires_in = TokenRotation ? ExpiresInSeconds : (int?)null,
            team = new { id = TeamId, name = TeamName },
            enterprise = (object?)null,
            is_enterprise_install = false
        });
    }

    private ResponseMessage Revoke(string token)
    {
        _accessTokens[token] = true;
        return Reply(new { ok = true, revoked = true });
    }

    private ResponseMessage UsersList(Dictionary<string, string> arguments)
    {
        var (page, next) = Paginate(_users, arguments);
        return Reply(new
        {
            ok = true,
            members = page.Select(user => new
            {
                id = user.Id,
                team_id = TeamId,
                name = user.Name.ToLowerInvariant().Replace(' ', '.'),
                deleted = false,
                real_name = user.Name,
                is_bot = false,
                profile = new { real_name = user.Name, display_name = user.Name }
            }),
            cache_ts = FirstTimestamp,
            response_metadata = new { next_cursor = next }
        });
    }

    private ResponseMessage ConversationsList(Dictionary<string, string> arguments)
    {
        var types = (arguments.GetValueOrDefault("types") ?? "public_channel").Split(',', StringSplitOptions.TrimEntries);
        var excludeArchived = arguments.GetValueOrDefault("exclude_archived") is "true" or "1";
        var channels = _channels
            .Where(channel => types.Contains(channel.IsPrivate ? "private_channel" : "public_channel"))
            .Where(channel => !excludeArchived || !channel.IsArchived)
            .ToList();
        var (page, next) = Paginate(channels, arguments);
        return Reply(new
        {
            ok = true,
            channels = page.Select(channel => new
            {
                id = channel.Id,
                name = channel.Name,
                is_channel = true,
                is_group = false,
                is_im = false,
                is_private = channel.IsPrivate,
                is_archived = channel.IsArchived,
                is_member = channel.IsMember,
                created = FirstTimestamp,
                num_members = _users.Count
            }),
            response_metadata = new { next_cursor = next }
        });
    }

    private ResponseMessage History(Dictionary<string, string> arguments)
    {
        if (ChannelFor(arguments) is not { } channel)
        {
            return Error(_channels.Any(c => c.Id == arguments.GetValueOrDefault("channel")) ? "not_in_channel" : "channel_not_found");
        }

        var inclusive = arguments.GetValueOrDefault("inclusive") is "true" or "1";
        var oldest = ParseTs(arguments.GetValueOrDefault("oldest")) ?? decimal.MinValue;
        var latest = ParseTs(arguments.GetValueOrDefault("latest")) ?? decimal.MaxValue;
        var visible = channel.Messages
            .Where(message => message.ThreadTs is null || message.ThreadTs == message.Ts || message.Subtype == "thread_broadcast")
            .Where(message =>
            {
                var ts = ParseTs(message.Ts)!.Value;
                return inclusive ? ts >= oldest && ts <= latest : ts > oldest && ts < latest;
            })
            .OrderByDescending(message => ParseTs(message.Ts))
            .ToList();
        var (page, next) = Paginate(visible, arguments);
        return Reply(new
        {
            ok = true,
            messages = page.Select(message => MessageJson(channel, message)),
            has_more = next.Length > 0,
            pin_count = 0,
            response_metadata = new { next_cursor = next }
        });
    }

    private ResponseMessage Replies(Dictionary<string, string> arguments)
    {
        if (ChannelFor(arguments) is not { } channel)
        {
            return Error(_channels.Any(c => c.Id == arguments.GetValueOrDefault("channel")) ? "not_in_channel" : "channel_not_found");
        }

        var ts = arguments.GetValueOrDefault("ts");
        var parent = channel.Messages.FirstOrDefault(message => message.Ts == ts);
        if (parent is null)
        {
            return Error("thread_not_found");
        }

        var replies = channel.Messages.Where(message => message.ThreadTs == parent.Ts && message.Ts != parent.Ts)
            .OrderBy(message => ParseTs(message.Ts))
            .ToList();
        var (page, next) = Paginate(replies, arguments);
        // Like Slack, every page starts with the parent message.
        return Reply(new
        {
            ok = true,
            messages = page.Prepend(parent).Select(message => MessageJson(channel, message)),
            has_more = next.Length > 0,
            response_metadata = new { next_cursor = next }
        });
    }

    private Dictionary<string, object?> MessageJson(Channel channel, Message message)
    {
        var json = new Dictionary<string, object?>
        {
            ["type"] = "message",
            ["user"] = message.User,
            ["text"] = message.Text,
            ["ts"] = message.Ts,
            ["team"] = TeamId,
            ["subtype"] = message.Subtype
        };
        if (message.ThreadTs is { } threadTs && threadTs != message.Ts)
        {
            json["thread_ts"] = threadTs;
            json["parent_user_id"] = channel.Messages.FirstOrDefault(m => m.Ts == threadTs)?.User;
        }
        else
        {
            var replies = channel.Messages.Where(m => m.ThreadTs == message.Ts && m.Ts != message.Ts).ToList();
            if (replies.Count > 0)
            {
                json["thread_ts"] = message.Ts;
                json["reply_count"] = replies.Count;
                json["reply_users_count"] = replies.Select(m => m.User).Distinct().Count();
                json["reply_users"] = replies.Select(m => m.User).Distinct().ToList();
                json["latest_reply"] = replies.Max(m => ParseTs(m.Ts))!.Value.ToString("0.000000", CultureInfo.InvariantCulture);
            }
        }

        return json;
    }

    private Channel? ChannelFor(Dictionary<string, string> arguments) =>
        _channels.FirstOrDefault(channel => channel.Id == arguments.GetValueOrDefault("channel") && channel.IsMember);

    private Channel? Find(string channel) => _channels.FirstOrDefault(c => c.Id == channel || c.Name == channel);

    /// <returns>The page and Slack's next_cursor ("" at the end).</returns>
    /// <exception cref="InvalidCursorException">A cursor this stand-in did not issue (Slack: invalid_cursor).</exception>
    private static (List<T> Page, string Next) Paginate<T>(List<T> items, Dictionary<string, string> arguments)
    {
        var limit = int.TryParse(arguments.GetValueOrDefault("limit"), CultureInfo.InvariantCulture, out var requested) && requested > 0
            ? Math.Min(requested, 1000)
            : 100;
        var offset = 0;
        if (arguments.GetValueOrDefault("cursor") is { Length: > 0 } cursor)
        {
            var bytes = new byte[cursor.Length];
            var decoded = Convert.TryFromBase64String(cursor, bytes, out var length) ? Encoding.UTF8.GetString(bytes, 0, length) : "";
            if (!decoded.StartsWith("offset:", StringComparison.Ordinal)
                || !int.TryParse(decoded["offset:".Length..], CultureInfo.InvariantCulture, out offset)
                || offset < 0)
            {
                throw new InvalidCursorException();
            }
        }

        var page = items.Skip(offset).Take(limit).ToList();
        var next = offset + limit < items.Count
            ? Convert.ToBase64String(Encoding.UTF8.GetBytes($"offset:{offset + limit}"))
            : "";
        return (page, next);
    }

    private void EnsureUsers()
    {
        if (_users.Count == 0)
        {
            _users.AddRange(DefaultUsers.Select(user => new User(user.Id, user.Name)));
        }
    }

    private void AppendMessages(Channel channel, int messages, int threadsWithReplies, int repliesPerThread)
    {
        for (var i = 0; i < messages; i++)
        {
            var author = _users[i % _users.Count];
            var other = _users[(i + 1) % _users.Count];
            var number = channel.Messages.Count(m => m.Subtype is null && m.ThreadTs is null) + 1;
            var text = i % 4 == 1
                ? $"Message {number} in #{channel.Name}: <@{other.Id}> please review the plan &amp; budget"
                : $"Message {number} in #{channel.Name} about topic {number % 7}";
            var parent = new Message(NextTs(), author.Id, text, null, null);
            channel.Messages.Add(parent);
            if (i < threadsWithReplies)
            {
                for (var r = 0; r < repliesPerThread; r++)
                {
                    var replier = _users[(i + r + 1) % _users.Count];
                    channel.Messages.Add(new Message(NextTs(), replier.Id, $"Reply {r + 1} to message {number} in #{channel.Name}", null, parent.Ts));
                }
            }
        }
    }

    private string NextTs()
    {
        var n = ++_clock;
        return $"{FirstTimestamp + n}.{n % 1_000_000:D6}";
    }

    private static decimal? ParseTs(string? ts) =>
        decimal.TryParse(ts, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static Dictionary<string, string> ArgumentsOf(IRequestMessage request)
    {
        var arguments = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in QueryHelpers.ParseQuery(request.RawQuery))
        {
            arguments[key] = value.ToString();
        }

        // Slack takes arguments in the query or as a form body alike.
        if (request.Body is { Length: > 0 } body && !body.TrimStart().StartsWith('{'))
        {
            foreach (var (key, value) in QueryHelpers.ParseQuery(body))
            {
                arguments[key] = value.ToString();
            }
        }

        return arguments;
    }

    private static string? HeaderOf(IRequestMessage request, string name) =>
        request.Headers?.FirstOrDefault(header => string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();

    private static string? BearerToken(IRequestMessage request) =>
        HeaderOf(request, "Authorization") is { } header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? header["Bearer ".Length..].Trim()
            : null;

    private static (string? ClientId, string? ClientSecret) ClientCredentials(IRequestMessage request, Dictionary<string, string> arguments)
    {
        if (HeaderOf(request, "Authorization") is { } header && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
            var colon = decoded.IndexOf(':');
            if (colon > 0)
            {
                return (Uri.UnescapeDataString(decoded[..colon]), Uri.UnescapeDataString(decoded[(colon + 1)..]));
            }
        }

        return (arguments.GetValueOrDefault("client_id"), arguments.GetValueOrDefault("client_secret"));
    }

    private static ResponseMessage Error(string error) => Reply(new { ok = false, error });

    private static ResponseMessage Reply(object body, int status = 200)
    {
        var response = new ResponseMessage
        {
            StatusCode = status,
            Headers = new Dictionary<string, WireMockList<string>>(),
            BodyData = new BodyData
            {
                BodyAsString = JsonSerializer.Serialize(body, Json),
                DetectedBodyType = BodyType.String,
                Encoding = Encoding.UTF8
            }
        };
        response.AddHeader("Content-Type", "application/json; charset=utf-8");
        return response;
    }

    private sealed class InvalidCursorException : Exception;

    private sealed record User(string Id, string Name);

    private sealed record Message(string Ts, string User, string Text, string? Subtype, string? ThreadTs);

    private sealed class Channel(string id, string name, bool isPrivate, bool isMember, bool isArchived)
    {
        public string Id { get; } = id;

        public string Name { get; } = name;

        public bool IsPrivate { get; } = isPrivate;

        public bool IsMember { get; set; } = isMember;

        public bool IsArchived { get; } = isArchived;

        public List<Message> Messages { get; } = [];
    }
}
