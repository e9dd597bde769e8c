using System.Text.RegularExpressions;

namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>
/// A chat export uploaded as a JSON array of messages reaches extraction as flattened JSON ("[3].user: olga",
/// "[3].text: ..."): it is rewritten as the transcript it is, one "Speaker: text" line per message in order (the form
/// Slack threads are written in), so speakers, questions and replies read as a conversation. Any other text is left
/// as it is.
/// </summary>
public static partial class ChatTranscript
{
    public sealed record Message(int Index, string? Speaker, string Text, string? Ts, string? ThreadTs);

    /// <summary>The transcript, or null when the text is not a flattened message array.</summary>
    public static string? Normalize(string text) => TryRead(text) is { Count: > 0 } messages
        ? string.Join("\n", messages.Select(m => $"{m.Speaker ?? "unknown"}: {m.Text}"))
        : null;

    /// <summary>The messages of a flattened JSON message array: at least two entries with a text, most with a speaker.</summary>
    public static IReadOnlyList<Message>? TryRead(string text)
    {
        var fields = new SortedDictionary<int, Dictionary<string, string>>();
        var lines = 0;
        foreach (var line in text.Split('\n'))
        {
            var trimmed = line.TrimEnd('\r');
            if (trimmed.Length == 0 || trimmed == "---chunk---")
            {
                continue;
            }

            lines++;
            var match = FlattenedField().Match(trimmed);
            if (!match.Success)
            {
                continue;
            }

            var index = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (!fields.TryGetValue(index, out var entry))
            {
                fields[index] = entry = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            }

            entry[match.Groups[2].Value] = match.Groups[3].Value.Trim();
        }

        var messages = fields
            .Where(f => f.Value.ContainsKey("text"))
            .Select(f => new Message(f.Key, Speaker(f.Value), f.Value["text"], f.Value.GetValueOrDefault("ts"), f.Value.GetValueOrDefault("thread_ts")))
            .ToList();
        var matched = fields.Values.Sum(f => f.Count);
        // Mostly flattened fields, most messages with a speaker: a chat export, not a JSON document that has a "text" key.
        return messages.Count >= 2 && matched * 10 >= lines * 8 && messages.Count(m => m.Speaker is not null) * 10 >= messages.Count * 8 ? messages : null;
    }

    private static string? Speaker(Dictionary<string, string> fields)
    {
        foreach (var key in new[] { "user_name", "real_name", "user", "username", "author", "from", "sender", "name" })
        {
            if (fields.TryGetValue(key, out var value) && value.Length is > 0 and <= 60 && !value.Contains(':'))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>The speakers of a transcript or Slack thread text ("Name: message" lines), in order of first appearance.</summary>
    public static IReadOnlyList<string> Speakers(string transcript)
    {
        var speakers = new List<string>();
        foreach (Match match in SpeakerLine().Matches(transcript))
        {
            var speaker = match.Groups[1].Value.Trim();
            if (!speakers.Contains(speaker, StringComparer.OrdinalIgnoreCase))
            {
                speakers.Add(speaker);
            }
        }

        return speakers;
    }

    [GeneratedRegex(@"^\[(\d{1,6})\]\.([A-Za-z_]{1,30}): ?(.*)$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex FlattenedField();

    [GeneratedRegex(@"^([^:\n]{2,60}): ", RegexOptions.Multiline | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex SpeakerLine();
}
