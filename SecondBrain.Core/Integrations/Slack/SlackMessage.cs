using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SecondBrain.Core.Integrations.Slack;

/// <summary>
/// The part of a Slack message the knowledge base keeps. The Web API and the export use the same message shape,
/// so both readers parse it here.
/// </summary>
public sealed record SlackMessage(
    string Ts,
    string? Subtype,
    string? User,
    string? BotId,
    string? BotName,
    string Text,
    string? ThreadTs,
    int ReplyCount,
    IReadOnlyList<string> FileNames)
{
    // Membership, renames, pins and integration notices say nothing a team wrote.
    private static readonly HashSet<string> SystemSubtypes = new(StringComparer.Ordinal)
    {
        "channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name", "channel_archive",
        "channel_unarchive", "channel_convert_to_private", "channel_convert_to_public", "channel_posting_permissions",
        "group_join", "group_leave", "group_topic", "group_purpose", "group_name", "group_archive", "group_unarchive",
        "bot_add", "bot_remove", "bot_enable", "bot_disable", "app_conversation_join", "pinned_item", "unpinned_item",
        "reminder_add", "reminder_delete", "ekm_access_denied", "sh_room_created", "tombstone", "message_deleted",
        "message_changed", "message_replied", "joiner_notification"
    };

    public static bool IsSystemSubtype(string? subtype) => subtype is not null && SystemSubtypes.Contains(subtype);

    public bool IsSystem => IsSystemSubtype(Subtype);

    /// <summary>A thread reply (in the export replies are separate messages; a broadcast reply also shows in the channel).</summary>
    public bool IsReply => ThreadTs is not null && ThreadTs != Ts;

    public DateTimeOffset? CreatedAt => SlackTimestamps.ToDateTime(Ts);

    /// <summary>The message, or null when the element is not a message with a timestamp.</summary>
    public static SlackMessage? FromJson(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object || GetString(message, "ts") is not { Length: > 0 } ts)
        {
            return null;
        }

        var botName = message.TryGetProperty("bot_profile", out var botProfile) && botProfile.ValueKind == JsonValueKind.Object
            ? GetString(botProfile, "name")
            : null;
        botName ??= GetString(message, "username");

        var replyCount = message.TryGetProperty("reply_count", out var count) && count.ValueKind == JsonValueKind.Number
            && count.TryGetInt32(out var parsed)
            ? parsed
            : 0;

        return new SlackMessage(
            ts,
            GetString(message, "subtype"),
            GetString(message, "user"),
            GetString(message, "bot_id"),
            botName,
            ComposeText(message),
            GetString(message, "thread_ts"),
            replyCount,
            FileNamesOf(message));
    }

    /// <summary>The message text followed by the readable parts of its attachments (bots often post only those).</summary>
    private static string ComposeText(JsonElement message)
    {
        var builder = new StringBuilder(GetString(message, "text") ?? "");
        if (message.TryGetProperty("attachments", out var attachments) && attachments.ValueKind == JsonValueKind.Array)
        {
            foreach (var attachment in attachments.EnumerateArray())
            {
                if (attachment.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var parts = new[] { "pretext", "title", "text" }
                    .Select(name => GetString(attachment, name))
                    .OfType<string>()
                    .Where(part => part.Length > 0)
                    .Distinct(StringComparer.Ordinal)
                    .ToList();
                if (parts.Count == 0 && GetString(attachment, "fallback") is { Length: > 0 } fallback)
                {
                    parts.Add(fallback);
                }

                foreach (var part in parts)
                {
                    if (builder.Length > 0)
                    {
                        builder.Append('\n');
                    }

                    builder.Append(part);
                }
            }
        }

        return builder.ToString();
    }

    // The API lists "files"; older exports carry a single "file".
    private static IReadOnlyList<string> FileNamesOf(JsonElement message)
    {
        var names = new List<string>();
        if (message.TryGetProperty("files", out var files) && files.ValueKind == JsonValueKind.Array)
        {
            foreach (var file in files.EnumerateArray())
            {
                AddFileName(file, names);
            }
        }

        if (message.TryGetProperty("file", out var single))
        {
            AddFileName(single, names);
        }

        return names;
    }

    private static void AddFileName(JsonElement file, List<string> names)
    {
        if (file.ValueKind == JsonValueKind.Object
            && (GetString(file, "name") ?? GetString(file, "title")) is { Length: > 0 } name
            && !names.Contains(name))
        {
            names.Add(name);
        }
    }

    internal static string? GetString(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

/// <summary>Slack timestamps ("seconds.micro" strings) are message ids and ordering keys at once.</summary>
public static class SlackTimestamps
{
    public static DateTimeOffset? ToDateTime(string ts)
    {
        var dot = ts.IndexOf('.');
        var secondsPart = dot < 0 ? ts : ts[..dot];
        if (!long.TryParse(secondsPart, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return null;
        }

        long micros = 0;
        if (dot >= 0)
        {
            var fraction = ts[(dot + 1)..].PadRight(6, '0')[..6];
            if (!long.TryParse(fraction, NumberStyles.None, CultureInfo.InvariantCulture, out micros))
            {
                return null;
            }
        }

        try
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(micros * 10);
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Orders timestamps numerically; plain string order breaks when the seconds differ in length.</summary>
    public static int Compare(string? left, string? right)
    {
        if (left is null || right is null)
        {
            return left is null ? (right is null ? 0 : -1) : 1;
        }

        var leftParsed = decimal.TryParse(left, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var l);
        var rightParsed = decimal.TryParse(right, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var r);
        return leftParsed && rightParsed ? l.CompareTo(r) : string.CompareOrdinal(left, right);
    }

    public static readonly IComparer<string> Comparer = Comparer<string>.Create(Compare);
}
