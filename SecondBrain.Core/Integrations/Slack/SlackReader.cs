using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Sync;
using StackExchange.Redis;

namespace SecondBrain.Core.Integrations.Slack;

/// <summary>
/// Reads a Slack workspace through the Web API: users (names into Redis, shared by whichever worker continues
/// the run), then the channel list, then each channel's history with its threads. Every page is one bounded
/// step whose position is entirely in the cursor, so any worker can continue a run. The sync state is the newest
/// timestamp seen per channel, which the next run passes as <c>oldest</c>.
/// </summary>
public sealed class SlackReader(
    IHttpClientFactory http,
    IConnectionTokenSource tokens,
    IConnectionMultiplexer redis,
    IOptions<IntegrationsOptions> options,
    ILogger<SlackReader> logger) : ISourceReader
{
    /// <summary>How long a run's user names stay in Redis; far longer than a run, so only abandoned runs lose them.</summary>
    public static readonly TimeSpan UserNamesTtl = TimeSpan.FromHours(24);

    // A field no Slack user id can be: tells "users fully read" apart from a hash that a dead worker half-filled.
    private const string CompleteField = "$complete";

    // Failures that concern one channel only (the app was removed from it, or it was deleted mid-run).
    private static readonly HashSet<string> ChannelErrors = new(StringComparer.Ordinal) { "not_in_channel", "channel_not_found" };

    private static readonly JsonSerializerOptions CursorJson = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public string Source => Sources.Slack;

    public static RedisKey UserNamesKey(Guid runId) => $"sb:slack-users:{runId}";

    public async Task<SourcePage> ReadPageAsync(SourceReadContext context, string? cursor, CancellationToken cancellationToken)
    {
        var connectionId = context.ConnectionId
            ?? throw new InvalidOperationException("A Slack sync run needs a connection.");
        var state = cursor is null ? new Cursor() : ParseCursor(cursor);
        var settings = options.Value.Slack;
        var session = new SlackApiSession(http.CreateClient(Sources.Slack), settings.ApiBaseUrl, tokens, connectionId);
        var names = redis.GetDatabase();
        var namesKey = UserNamesKey(context.RunId);

        if (state.Phase != Phase.Users && !await names.KeyExistsAsync(namesKey))
        {
            // The names expired or Redis was flushed while the run waited: read them again, then carry on where it was.
            logger.LogInformation("Slack user names for run {RunId} are gone; reading users again", context.RunId);
            state.ReturnTo = state.Phase;
            state.Phase = Phase.Users;
            state.UsersCursor = null;
        }
        else if (state.Phase == Phase.Users && state.UsersCursor is not null && !await names.KeyExistsAsync(namesKey))
        {
            state.UsersCursor = null;
        }

        return state.Phase switch
        {
            Phase.Users => await ReadUsersAsync(session, state, names, namesKey, settings.PageSize, cancellationToken),
            Phase.Channels => await ListChannelsAsync(session, state, context, settings.PageSize, cancellationToken),
            _ => await ReadHistoryAsync(session, state, context, names, namesKey, settings.PageSize, cancellationToken)
        };
    }

    private static async Task<SourcePage> ReadUsersAsync(
        SlackApiSession session, Cursor state, IDatabase names, RedisKey namesKey, int pageSize, CancellationToken cancellationToken)
    {
        using var response = await session.CallOrThrowAsync("users.list", new Dictionary<string, string?>
        {
            ["limit"] = Limit(pageSize),
            ["cursor"] = state.UsersCursor
        }, cancellationToken);

        var entries = new List<HashEntry>();
        if (response.RootElement.TryGetProperty("members", out var members) && members.ValueKind == JsonValueKind.Array)
        {
            foreach (var member in members.EnumerateArray())
            {
                if (SlackUsers.IdOf(member) is { } id && SlackUsers.NameOf(member) is { } name)
                {
                    entries.Add(new HashEntry(id, name));
                }
            }
        }

        state.UsersCursor = SlackApiSession.NextCursor(response.RootElement);
        if (state.UsersCursor is null)
        {
            entries.Add(new HashEntry(CompleteField, "1"));
            state.Phase = state.ReturnTo ?? Phase.Channels;
            state.ReturnTo = null;
        }

        if (entries.Count > 0)
        {
            await names.HashSetAsync(namesKey, [.. entries]);
            await names.KeyExpireAsync(namesKey, UserNamesTtl);
        }

        return new SourcePage([], [], Serialize(state), Stage: "reading users");
    }

    private static async Task<SourcePage> ListChannelsAsync(
        SlackApiSession session, Cursor state, SourceReadContext context, int pageSize, CancellationToken cancellationToken)
    {
        using var response = await session.CallOrThrowAsync("conversations.list", new Dictionary<string, string?>
        {
            ["types"] = "public_channel,private_channel",
            ["exclude_archived"] = "true",
            ["limit"] = Limit(pageSize),
            ["cursor"] = state.ChannelsCursor
        }, cancellationToken);

        state.Channels ??= [];
        var known = state.Channels.Select(channel => channel.Id).ToHashSet(StringComparer.Ordinal);
        if (response.RootElement.TryGetProperty("channels", out var channels) && channels.ValueKind == JsonValueKind.Array)
        {
            foreach (var channel in channels.EnumerateArray())
            {
                if (SlackMessage.GetString(channel, "id") is { Length: > 0 } id && known.Add(id))
                {
                    state.Channels.Add(new ChannelRef(id, SlackMessage.GetString(channel, "name") ?? id));
                }
            }
        }

        state.ChannelsCursor = SlackApiSession.NextCursor(response.RootElement);
        if (state.ChannelsCursor is not null)
        {
            return new SourcePage([], [], Serialize(state), Stage: "listing channels");
        }

        state.Phase = Phase.History;
        return state.Channels.Count == 0
            ? new SourcePage([], [], null, 0, context.PreviousSyncState ?? "{}", "listing channels")
            : new SourcePage([], [], Serialize(state), Stage: "listing channels");
    }

    private async Task<SourcePage> ReadHistoryAsync(
        SlackApiSession session,
        Cursor state,
        SourceReadContext context,
        IDatabase names,
        RedisKey namesKey,
        int pageSize,
        CancellationToken cancellationToken)
    {
        var channels = state.Channels ?? [];
        var previous = PreviousState(context.PreviousSyncState);
        state.Latest ??= new Dictionary<string, string>(previous, StringComparer.Ordinal);
        if (state.ChannelIndex >= channels.Count)
        {
            return new SourcePage([], [], null, SyncState: SerializeState(state.Latest), Stage: "done");
        }

        var channel = channels[state.ChannelIndex];
        var stage = $"#{channel.Name}: history";
        var items = new List<SourceItem>();
        var failures = new List<SourceItemFailure>();

        var (history, error) = await session.CallAsync("conversations.history", new Dictionary<string, string?>
        {
            ["channel"] = channel.Id,
            ["limit"] = Limit(pageSize),
            ["cursor"] = state.HistoryCursor,
            // Exclusive by default: only messages newer than what the previous run saw.
            ["oldest"] = previous.GetValueOrDefault(channel.Id)
        }, cancellationToken);

        if (history is null)
        {
            if (error is null || !ChannelErrors.Contains(error))
            {
                throw new SlackApiException("conversations.history", error ?? "unknown_error");
            }

            logger.LogWarning("Skipping Slack channel {ChannelId} (#{Channel}): {Error}", channel.Id, channel.Name, error);
            failures.Add(new SourceItemFailure(channel.Id, $"#{channel.Name}: {error}"));
            return NextChannel(state, items, failures, stage);
        }

        using (history)
        {
            var messages = MessagesOf(history.RootElement);
            foreach (var message in messages)
            {
                if (SlackTimestamps.Compare(message.Ts, state.Latest.GetValueOrDefault(channel.Id)) > 0)
                {
                    state.Latest[channel.Id] = message.Ts;
                }
            }

            // Broadcast replies also appear in the history; they are read with their thread.
            var parents = messages.Where(message => !message.IsSystem && !message.IsReply).ToList();
            var threads = new List<(SlackMessage Parent, List<SlackMessage> Replies)>();
            foreach (var parent in parents)
            {
                if (parent.ReplyCount == 0)
                {
                    threads.Add((parent, []));
                    continue;
                }

                var replies = await ReadRepliesAsync(session, channel, parent, pageSize, cancellationToken);
                if (replies is null)
                {
                    failures.Add(new SourceItemFailure(SlackThreads.ExternalId(channel.Id, parent.Ts), $"#{channel.Name}: the thread could not be read."));
                    continue;
                }

                threads.Add((parent, replies));
            }

            var resolved = await ResolveNamesAsync(names, namesKey, threads.SelectMany(thread => thread.Replies.Prepend(thread.Parent)));
            foreach (var (parent, replies) in threads)
            {
                items.Add(SlackThreads.ToItem(channel.Id, channel.Name, parent, replies, id => resolved.GetValueOrDefault(id)));
            }

            state.HistoryCursor = SlackApiSession.NextCursor(history.RootElement);
        }

        return state.HistoryCursor is null
            ? NextChannel(state, items, failures, stage)
            : new SourcePage(items, failures, Serialize(state), Stage: stage);
    }

    private static SourcePage NextChannel(Cursor state, List<SourceItem> items, List<SourceItemFailure> failures, string stage)
    {
        state.ChannelIndex++;
        state.HistoryCursor = null;
        return state.ChannelIndex >= (state.Channels?.Count ?? 0)
            ? new SourcePage(items, failures, null, SyncState: SerializeState(state.Latest ?? []), Stage: stage)
            : new SourcePage(items, failures, Serialize(state), Stage: stage);
    }

    /// <summary>The thread's replies, or null when Slack will not give them (thread deleted meanwhile...).</summary>
    private async Task<List<SlackMessage>?> ReadRepliesAsync(
        SlackApiSession session, ChannelRef channel, SlackMessage parent, int pageSize, CancellationToken cancellationToken)
    {
        var replies = new List<SlackMessage>();
        string? next = null;
        do
        {
            var (response, error) = await session.CallAsync("conversations.replies", new Dictionary<string, string?>
            {
                ["channel"] = channel.Id,
                ["ts"] = parent.Ts,
                ["limit"] = Limit(pageSize),
                ["cursor"] = next
            }, cancellationToken);
            if (response is null)
            {
                logger.LogWarning("Slack thread {Ts} in #{Channel} could not be read: {Error}", parent.Ts, channel.Name, error);
                return null;
            }

            using (response)
            {
                // Slack repeats the parent at the head of each page.
                replies.AddRange(MessagesOf(response.RootElement).Where(message => message.Ts != parent.Ts && !message.IsSystem));
                next = SlackApiSession.NextCursor(response.RootElement);
            }
        }
        while (next is not null);

        return replies;
    }

    private static async Task<Dictionary<string, string>> ResolveNamesAsync(IDatabase names, RedisKey namesKey, IEnumerable<SlackMessage> messages)
    {
        var ids = SlackThreads.UserIdsIn(messages).ToArray();
        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        if (ids.Length == 0)
        {
            return resolved;
        }

        var values = await names.HashGetAsync(namesKey, [.. ids.Select(id => (RedisValue)id)]);
        for (var i = 0; i < ids.Length; i++)
        {
            if (values[i].HasValue)
            {
                resolved[ids[i]] = values[i].ToString();
            }
        }

        return resolved;
    }

    private static List<SlackMessage> MessagesOf(JsonElement root)
    {
        var messages = new List<SlackMessage>();
        if (root.TryGetProperty("messages", out var array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (var element in array.EnumerateArray())
            {
                if (SlackMessage.FromJson(element) is { } message)
                {
                    messages.Add(message);
                }
            }
        }

        return messages;
    }

    private static string Limit(int pageSize) => Math.Clamp(pageSize, 1, 1000).ToString(CultureInfo.InvariantCulture);

    private Dictionary<string, string> PreviousState(string? syncState)
    {
        if (string.IsNullOrWhiteSpace(syncState))
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(syncState) is { } parsed
                ? new Dictionary<string, string>(parsed, StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal);
        }
        catch (JsonException ex)
        {
            // A state this reader cannot read only costs a full read, never a gap.
            logger.LogWarning(ex, "Ignoring an unreadable Slack sync state; reading everything");
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }
    }

    private static string SerializeState(Dictionary<string, string> latest) =>
        JsonSerializer.Serialize(new SortedDictionary<string, string>(latest, StringComparer.Ordinal));

    private static string Serialize(Cursor state) => JsonSerializer.Serialize(state, CursorJson);

    private static Cursor ParseCursor(string cursor)
    {
        try
        {
            return JsonSerializer.Deserialize<Cursor>(cursor, CursorJson) ?? throw new JsonException("null cursor");
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException("The Slack sync cursor is not readable.", ex);
        }
    }

    private static class Phase
    {
        public const string Users = "users";
        public const string Channels = "channels";
        public const string History = "history";
    }

    private sealed record ChannelRef(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("name")] string Name);

    private sealed class Cursor
    {
        [JsonPropertyName("phase")]
        public string Phase { get; set; } = SlackReader.Phase.Users;

        /// <summary>The phase to go back to after users had to be read again.</summary>
        [JsonPropertyName("returnTo")]
        public string? ReturnTo { get; set; }

        [JsonPropertyName("usersCursor")]
        public string? UsersCursor { get; set; }

        [JsonPropertyName("channelsCursor")]
        public string? ChannelsCursor { get; set; }

        [JsonPropertyName("channels")]
        public List<ChannelRef>? Channels { get; set; }

        [JsonPropertyName("channelIndex")]
        public int ChannelIndex { get; set; }

        [JsonPropertyName("historyCursor")]
        public string? HistoryCursor { get; set; }

        /// <summary>Newest timestamp seen per channel so far, starting from the previous sync state.</summary>
        [JsonPropertyName("latest")]
        public Dictionary<string, string>? Latest { get; set; }
    }
}
