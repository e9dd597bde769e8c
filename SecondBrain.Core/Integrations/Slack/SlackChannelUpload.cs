using System.Text.Json;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Slack;

/// <summary>
/// A Slack-style export of one channel uploaded as a single file: a JSON array of messages (<c>user</c>, <c>ts</c>,
/// <c>text</c>, optionally <c>thread_ts</c>). It is read as chat, the way the workspace-export importer reads a
/// channel: each top-level message with its thread replies becomes one document, with its author and time, so a
/// question and its answers stay together and a reply is seen as a reply.
/// </summary>
public static class SlackChannelUpload
{
    /// <summary>
    /// Larger than this, a JSON file is indexed as plain JSON: the Api folds a chat log in memory, and one channel's
    /// export this large is unusual (the workspace-export importer, in the Worker, takes any size).
    /// </summary>
    public const long MaxBytes = 8L * 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new() { AllowTrailingCommas = true, MaxDepth = 64 };

    /// <summary>The file's threads, or null when it is not a Slack-style message array. Reads the stream element by element.</summary>
    public static async Task<IReadOnlyList<SourceItem>?> TryReadAsync(string fileName, Stream content, long length, CancellationToken cancellationToken)
    {
        if (length is 0 or > MaxBytes || !fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var messages = new List<SlackMessage>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var count = 0;
        try
        {
            await foreach (var element in JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(content, Json, cancellationToken))
            {
                count++;
                // Every element must look like a message: a timestamp and text (system messages included).
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("text", out _)
                    || SlackMessage.FromJson(element) is not { } message)
                {
                    return null;
                }

                if (message.User is { Length: > 0 } user && RealName(element) is { } name)
                {
                    names[user] = name;
                }

                if (!message.IsSystem)
                {
                    messages.Add(message);
                }
            }
        }
        catch (JsonException)
        {
            return null; // not a JSON array (or not JSON at all): an ordinary file
        }

        if (count == 0)
        {
            return null;
        }

        var channel = Path.GetFileNameWithoutExtension(fileName);
        var channelId = "upload:" + channel;
        var parentIds = messages.Where(m => !m.IsReply).Select(m => m.Ts).ToHashSet(StringComparer.Ordinal);
        var parents = messages.Where(m => !m.IsReply || !parentIds.Contains(m.ThreadTs!)).ToList();
        var replies = messages.Where(m => m.IsReply).ToLookup(m => m.ThreadTs!, StringComparer.Ordinal);
        return parents
            .OrderBy(p => p.Ts, SlackTimestamps.Comparer)
            .Select(parent => SlackThreads.ToItem(channelId, channel, parent, parent.IsReply ? [] : replies[parent.Ts],
                id => names.GetValueOrDefault(id)))
            .ToList();
    }

    private static string? RealName(JsonElement message) =>
        message.TryGetProperty("user_profile", out var profile) && profile.ValueKind == JsonValueKind.Object
        && profile.TryGetProperty("real_name", out var real) && real.ValueKind == JsonValueKind.String && real.GetString() is { Length: > 0 } name
            ? name
            : message.TryGetProperty("user_name", out var userName) && userName.ValueKind == JsonValueKind.String ? userName.GetString() : null;
}
