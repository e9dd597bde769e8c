using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Slack;

/// <summary>
/// The one way a Slack conversation becomes a <see cref="SourceItem"/>: a top-level message and its thread replies
/// are one item, so a question and its answers are indexed (and cited) together. Used by the Web API reader and
/// the export importer alike.
/// </summary>
public static class SlackThreads
{
    public const string ContentType = "text/x-slack-thread";

    private const int TitleLength = 80;

    /// <summary>Id of a channel message, stable across the API and the export: "{channelId}:{ts}".</summary>
    public static string ExternalId(string channelId, string ts) => $"{channelId}:{ts}";

    /// <param name="userName">Resolves a user id to a name; null when unknown.</param>
    public static SourceItem ToItem(
        string channelId,
        string channelName,
        SlackMessage parent,
        IEnumerable<SlackMessage> replies,
        Func<string, string?> userName)
    {
        var thread = replies
            .Where(reply => reply.Ts != parent.Ts && !reply.IsSystem)
            .DistinctBy(reply => reply.Ts)
            .OrderBy(reply => reply.Ts, SlackTimestamps.Comparer)
            .Prepend(parent)
            .ToList();

        var text = new StringBuilder();
        foreach (var message in thread)
        {
            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(AuthorOf(message, userName)).Append(": ").Append(SlackText.Render(message.Text, userName));
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["channel"] = channelName,
            ["channelId"] = channelId,
            ["threadTs"] = parent.Ts,
            ["replyCount"] = (thread.Count - 1).ToString(CultureInfo.InvariantCulture)
        };
        var files = thread.SelectMany(message => message.FileNames).Distinct(StringComparer.Ordinal).ToList();
        if (files.Count > 0)
        {
            metadata["files"] = string.Join(", ", files);
        }

        return new SourceItem(
            ExternalId(channelId, parent.Ts),
            Title(channelName, parent, files, userName),
            AuthorOf(parent, userName),
            parent.CreatedAt,
            ContentType,
            text.ToString(),
            null,
            metadata);
    }

    /// <summary>The user's name, else the bot's name, else whatever id there is.</summary>
    public static string AuthorOf(SlackMessage message, Func<string, string?> userName)
    {
        if (message.User is { Length: > 0 } user)
        {
            return userName(user) ?? message.BotName ?? user;
        }

        return message.BotName ?? message.BotId ?? "unknown";
    }

    /// <summary>The user ids a set of messages needs resolved: authors and mentions.</summary>
    public static IEnumerable<string> UserIdsIn(IEnumerable<SlackMessage> messages) =>
        messages.SelectMany(message => SlackText.MentionedUserIds(message.Text).Prepend(message.User ?? ""))
            .Where(id => id.Length > 0)
            .Distinct(StringComparer.Ordinal);

    private static string Title(string channelName, SlackMessage parent, IReadOnlyList<string> files, Func<string, string?> userName)
    {
        var collapsed = string.Join(' ', SlackText.Render(parent.Text, userName)
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (collapsed.Length == 0)
        {
            collapsed = files.Count > 0 ? string.Join(", ", files) : "(no text)";
        }

        if (collapsed.Length > TitleLength)
        {
            var cut = collapsed.LastIndexOf(' ', TitleLength);
            collapsed = collapsed[..(cut > TitleLength / 2 ? cut : TitleLength)] + "…";
        }

        return $"#{channelName}: {collapsed}";
    }
}

/// <summary>Slack's message markup (&lt;@U123&gt;, &lt;url|label&gt;, &amp;amp;) rendered as plain text.</summary>
public static partial class SlackText
{
    [GeneratedRegex("<([^<>\n]+)>", RegexOptions.NonBacktracking)]
    private static partial Regex Markup();

    [GeneratedRegex("<@([UW][A-Z0-9]+)(?:\\|[^<>]*)?>", RegexOptions.NonBacktracking)]
    private static partial Regex Mention();

    public static IEnumerable<string> MentionedUserIds(string text) =>
        Mention().Matches(text).Select(match => match.Groups[1].Value);

    public static string Render(string text, Func<string, string?> userName)
    {
        var rendered = Markup().Replace(text, match =>
        {
            var inner = match.Groups[1].Value;
            var bar = inner.IndexOf('|');
            var target = bar < 0 ? inner : inner[..bar];
            var label = bar < 0 ? null : inner[(bar + 1)..];
            if (target.Length == 0)
            {
                return label ?? "";
            }

            return target[0] switch
            {
                '@' => "@" + (userName(target[1..]) ?? label ?? target[1..]),
                '#' => "#" + (label ?? target[1..]),
                '!' => Special(target[1..], label),
                _ => Link(target, label)
            };
        });

        // Slack escapes only these three; &amp; last so "&amp;lt;" stays "&lt;".
        return rendered.Replace("&lt;", "<", StringComparison.Ordinal)
            .Replace("&gt;", ">", StringComparison.Ordinal)
            .Replace("&amp;", "&", StringComparison.Ordinal);
    }

    private static string Special(string command, string? label)
    {
        if (label is { Length: > 0 })
        {
            return label;
        }

        var caret = command.IndexOf('^');
        return "@" + (caret < 0 ? command : command[..caret]);
    }

    private static string Link(string url, string? label)
    {
        if (label is not { Length: > 0 } || label == url)
        {
            return url;
        }

        return url.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) && label == url["mailto:".Length..]
            ? label
            : $"{label} ({url})";
    }
}

/// <summary>How a Slack user (users.list member or users.json entry) is named in items.</summary>
public static class SlackUsers
{
    /// <summary>
    /// The person's real name when they gave one, else their display name or handle: real names are what the
    /// knowledge base resolves people by (and what e-mail and documents use), handles rarely are.
    /// </summary>
    public static string? NameOf(JsonElement user)
    {
        if (user.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var hasProfile = user.TryGetProperty("profile", out var profile) && profile.ValueKind == JsonValueKind.Object;
        string? FromProfile(string property) => hasProfile ? NonEmpty(SlackMessage.GetString(profile, property)) : null;

        return FromProfile("real_name")
            ?? NonEmpty(SlackMessage.GetString(user, "real_name"))
            ?? FromProfile("display_name")
            ?? NonEmpty(SlackMessage.GetString(user, "name"))
            ?? NonEmpty(SlackMessage.GetString(user, "id"));
    }

    public static string? IdOf(JsonElement user) =>
        user.ValueKind == JsonValueKind.Object ? NonEmpty(SlackMessage.GetString(user, "id")) : null;

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
