using System.Text.Json;
using MimeKit;

namespace SecondBrain.Benchmarks.Knowledge.Eval;

/// <summary>
/// Which file of a set a stored document came from: an imported e-mail by its Message-ID, a Slack thread by the day
/// file its first message is in, an upload by its file name.
/// </summary>
public sealed class EvalDocumentMap
{
    private readonly Dictionary<string, string> _mailByMessageId = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _mailByName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<(string Channel, string Ts), string> _slack = [];
    private readonly Dictionary<string, string> _uploads = new(StringComparer.OrdinalIgnoreCase);

    public static EvalDocumentMap Files(EvalSet set)
    {
        var map = new EvalDocumentMap();
        foreach (var file in set.MailFiles)
        {
            var relative = Relative(set, file);
            map._mailByName[Path.GetFileName(file)] = relative;
            try
            {
                using var stream = File.OpenRead(file);
                if (MimeMessage.Load(stream).MessageId is { Length: > 0 } id)
                {
                    map._mailByMessageId[id] = relative;
                }
            }
            catch (FormatException)
            {
                // Not readable as mail: the import reports it as a failed item.
            }
        }

        if (Directory.Exists(set.SlackDirectory))
        {
            foreach (var day in Directory.EnumerateFiles(set.SlackDirectory, "*.json", SearchOption.AllDirectories))
            {
                var channel = Path.GetFileName(Path.GetDirectoryName(day))!;
                if (Path.GetFullPath(Path.GetDirectoryName(day)!) == Path.GetFullPath(set.SlackDirectory))
                {
                    continue; // users.json, channels.json
                }

                using var json = JsonDocument.Parse(File.ReadAllText(day));
                if (json.RootElement.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                foreach (var message in json.RootElement.EnumerateArray())
                {
                    if (message.TryGetProperty("ts", out var ts) && ts.GetString() is { } value)
                    {
                        map._slack.TryAdd((channel, value), Relative(set, day));
                    }
                }
            }
        }

        foreach (var file in set.UploadFiles)
        {
            map._uploads.TryAdd(Path.GetFileName(file), Relative(set, file));
        }

        return map;
    }

    public string? FileOf(string source, string externalId, string title, IReadOnlyDictionary<string, string> metadata)
    {
        if (source == "email-archive")
        {
            if (metadata.TryGetValue("messageId", out var id) && _mailByMessageId.TryGetValue(id.Trim('<', '>'), out var byId))
            {
                return byId;
            }

            return _mailByName.TryGetValue(Path.GetFileName(externalId), out var byName) ? byName : null;
        }

        if (source == "slack-export")
        {
            return metadata.TryGetValue("channel", out var channel) && metadata.TryGetValue("threadTs", out var ts) && _slack.TryGetValue((channel, ts), out var day)
                ? day
                : null;
        }

        var name = metadata.TryGetValue("fileName", out var fileName) ? Path.GetFileName(fileName) : title;
        return _uploads.TryGetValue(name, out var upload) ? upload : null;
    }

    private static string Relative(EvalSet set, string file) => Path.GetRelativePath(set.Root, file).Replace('\\', '/');
}
