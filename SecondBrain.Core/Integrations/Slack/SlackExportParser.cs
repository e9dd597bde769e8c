using System.IO.Compression;
using System.Text.Json;
using SecondBrain.Core.Storage;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Slack;

/// <summary>Counts a Slack export's reading leaves behind (for tests and logs): conversations and messages seen.</summary>
public sealed class SlackExportStats
{
    public int ChannelCount { get; set; }

    /// <summary>Every message in the day files, system messages included.</summary>
    public int MessageCount { get; set; }
}

/// <summary>
/// Parses the zip Slack's workspace export delivers: users.json, channels.json (and groups.json, mpims.json, dms.json
/// when the export has them), and a folder per conversation with one JSON array of messages per day. Replies are
/// separate messages there (thread_ts != ts) and are folded into their parent's item, as the API reader does. The
/// result is a stream of records in a deterministic order (conversation as listed, then message time), one
/// conversation in memory at a time, what an import stages once per run (<see cref="StagedImport"/>); every file
/// is read through the archive's <see cref="InflationBudget"/>, so a zip bomb fails the run with the reason.
/// </summary>
public static class SlackExportParser
{
    // A day file this large is not a chat log; refusing it keeps a crafted zip from exhausting memory.
    private const long MaxDayFileBytes = 64L * 1024 * 1024;

    // A conversation's messages are held together to fold threads across days; beyond this it is not imported.
    private const long MaxConversationBytes = 128L * 1024 * 1024;

    private static readonly string[] ConversationFiles = ["channels.json", "groups.json", "mpims.json", "dms.json"];

    /// <summary>
    /// The export's records: file failures first (user and conversation lists), then per conversation its day-file
    /// failures and its threads. <paramref name="zip"/> must be seekable.
    /// </summary>
    public static IEnumerable<ArchiveRecord> Read(Stream zip, ArchiveImportOptions limits, CancellationToken cancellationToken, SlackExportStats? stats = null)
    {
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidSourceException("The upload is not a zip archive; a Slack export is the .zip file Slack delivers.", ex);
        }

        using (archive)
        {
            var budget = new InflationBudget(limits, "The Slack export");
            try
            {
                budget.CheckEntryCount(archive.Entries.Count);
            }
            catch (ArchiveLimitException ex)
            {
                throw new InvalidSourceException(ex.Message, ex);
            }

            foreach (var record in Read(archive, budget, stats ?? new SlackExportStats(), cancellationToken))
            {
                yield return record;
            }
        }
    }

    private static IEnumerable<ArchiveRecord> Read(ZipArchive archive, InflationBudget budget, SlackExportStats stats, CancellationToken cancellationToken)
    {
        var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var entry in archive.Entries)
        {
            entries.TryAdd(entry.FullName.Replace('\\', '/'), entry);
        }

        // Exports re-zipped from an unpacked folder have everything under one top-level directory.
        var root = entries.Keys
            .Where(path => path == "channels.json" || path.EndsWith("/channels.json", StringComparison.Ordinal))
            .OrderBy(path => path.Length)
            .FirstOrDefault()
            ?.Replace("channels.json", "", StringComparison.Ordinal)
            ?? throw new InvalidSourceException("The zip has no channels.json, so it is not a Slack workspace export.");

        var failures = new List<SourceItemFailure>();
        var users = ReadUsers(entries, root, failures, budget);
        var conversations = ReadConversations(entries, root, failures, budget);
        stats.ChannelCount = conversations.Count;
        foreach (var failure in failures)
        {
            yield return new ArchiveRecord(null, failure);
        }

        foreach (var conversation in conversations)
        {
            cancellationToken.ThrowIfCancellationRequested();
            failures.Clear();
            var messages = ReadDayFiles(entries, root, conversation, failures, budget, cancellationToken);
            stats.MessageCount += messages.Count;
            foreach (var failure in failures)
            {
                yield return new ArchiveRecord(null, failure);
            }

            foreach (var item in Threads(conversation, messages, users))
            {
                yield return ArchiveRecord.Of(item);
            }
        }
    }

    private static Dictionary<string, string> ReadUsers(Dictionary<string, ZipArchiveEntry> entries, string root, List<SourceItemFailure> failures, InflationBudget budget)
    {
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!entries.TryGetValue(root + "users.json", out var entry))
        {
            return users;
        }

        try
        {
            using var document = Load(entry, budget);
            foreach (var user in ArrayOf(document.RootElement))
            {
                if (SlackUsers.IdOf(user) is { } id && SlackUsers.NameOf(user) is { } name)
                {
                    users[id] = name;
                }
            }
        }
        catch (Exception ex) when (IsUnreadable(ex, budget))
        {
            // Without names the messages are still worth importing; authors fall back to user ids.
            failures.Add(new SourceItemFailure("users.json", $"Unreadable user list: {ex.Message}"));
        }

        return users;
    }

    private static List<Conversation> ReadConversations(Dictionary<string, ZipArchiveEntry> entries, string root, List<SourceItemFailure> failures, InflationBudget budget)
    {
        var conversations = new List<Conversation>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in ConversationFiles)
        {
            if (!entries.TryGetValue(root + file, out var entry))
            {
                continue;
            }

            try
            {
                using var document = Load(entry, budget);
                foreach (var conversation in ArrayOf(document.RootElement))
                {
                    if (conversation.ValueKind != JsonValueKind.Object
                        || SlackMessage.GetString(conversation, "id") is not { Length: > 0 } id
                        || !seen.Add(id))
                    {
                        continue;
                    }

                    // Direct messages have no name; their folder is their id.
                    var name = SlackMessage.GetString(conversation, "name") is { Length: > 0 } named ? named : id;
                    conversations.Add(new Conversation(id, name, name));
                }
            }
            catch (Exception ex) when (IsUnreadable(ex, budget))
            {
                if (file == "channels.json")
                {
                    throw new InvalidSourceException($"The export's channels.json is not readable: {ex.Message}", ex);
                }

                failures.Add(new SourceItemFailure(file, $"Unreadable conversation list: {ex.Message}"));
            }
        }

        return conversations;
    }

    private static List<SlackMessage> ReadDayFiles(
        Dictionary<string, ZipArchiveEntry> entries, string root, Conversation conversation, List<SourceItemFailure> failures,
        InflationBudget budget, CancellationToken cancellationToken)
    {
        var folder = root + conversation.Folder + "/";
        var dayFiles = entries
            .Where(entry => entry.Key.StartsWith(folder, StringComparison.Ordinal)
                && entry.Key.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
                && entry.Key.IndexOf('/', folder.Length) < 0)
            .OrderBy(entry => entry.Key, StringComparer.Ordinal);

        var messages = new List<SlackMessage>();
        var startedAt = budget.Inflated;
        foreach (var (path, entry) in dayFiles)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (budget.Inflated - startedAt > MaxConversationBytes)
            {
                failures.Add(new SourceItemFailure(conversation.Folder,
                    $"#{conversation.Name} has more than {MaxConversationBytes / (1024 * 1024)} MB of messages, the limit per conversation; it was not imported."));
                return [];
            }

            var failureId = $"{conversation.Folder}/{path[folder.Length..]}";
            if (entry.Length > MaxDayFileBytes)
            {
                failures.Add(new SourceItemFailure(failureId, $"The day file is larger than {MaxDayFileBytes / (1024 * 1024)} MB."));
                continue;
            }

            try
            {
                using var document = Load(entry, budget);
                if (document.RootElement.ValueKind != JsonValueKind.Array)
                {
                    failures.Add(new SourceItemFailure(failureId, "The day file is not a JSON array of messages."));
                    continue;
                }

                foreach (var element in document.RootElement.EnumerateArray())
                {
                    if (SlackMessage.FromJson(element) is { } message)
                    {
                        messages.Add(message);
                    }
                }
            }
            catch (Exception ex) when (IsUnreadable(ex, budget))
            {
                failures.Add(new SourceItemFailure(failureId, $"Unreadable day file: {ex.Message}"));
            }
        }

        return messages;
    }

    private static IEnumerable<SourceItem> Threads(Conversation conversation, List<SlackMessage> messages, Dictionary<string, string> users)
    {
        var content = messages
            .DistinctBy(message => message.Ts)
            .Where(message => !message.IsSystem)
            .ToList();
        var parents = content.Where(message => !message.IsReply).ToDictionary(message => message.Ts, StringComparer.Ordinal);
        var replies = content.Where(message => message.IsReply)
            .GroupBy(message => message.ThreadTs!, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.ToList(), StringComparer.Ordinal);

        // A reply whose parent is not in the export (older than the export, or deleted) stands on its own.
        var heads = parents.Values
            .Concat(content.Where(message => message.IsReply && !parents.ContainsKey(message.ThreadTs!)))
            .OrderBy(message => message.Ts, SlackTimestamps.Comparer);

        foreach (var head in heads)
        {
            var thread = !head.IsReply && replies.TryGetValue(head.Ts, out var found) ? found : [];
            yield return SlackThreads.ToItem(conversation.Id, conversation.Name, head, thread, id => users.GetValueOrDefault(id));
        }
    }

    private static JsonDocument Load(ZipArchiveEntry entry, InflationBudget budget)
    {
        using var stream = budget.Open(entry.Open(), entry.FullName, entry.CompressedLength, MaxDayFileBytes);
        return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true });
    }

    /// <summary>
    /// A file that is damaged, not JSON, or over its own size or ratio limit becomes a failure; the archive over its
    /// total is not caught, so the import fails with the reason.
    /// </summary>
    private static bool IsUnreadable(Exception ex, InflationBudget budget) => ex switch
    {
        ArchiveLimitException => !budget.ArchiveTotalExceeded,
        JsonException or InvalidDataException or IOException => true,
        _ => false
    };

    private static IEnumerable<JsonElement> ArrayOf(JsonElement element) =>
        element.ValueKind == JsonValueKind.Array
            ? element.EnumerateArray()
            : throw new JsonException("Expected a JSON array.");

    private sealed record Conversation(string Id, string Name, string Folder);
}
