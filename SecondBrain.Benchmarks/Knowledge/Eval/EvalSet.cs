using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using HtmlAgilityPack;
using MimeKit;

namespace SecondBrain.Benchmarks.Knowledge.Eval;

/// <summary>
/// One evaluation set on disk: mail/*.eml, slack/ (a workspace export), documents/ (any depth), uploads/ and its
/// labels. <see cref="Validate"/> checks at load that every quote is in its file, so a typo in the labels fails the
/// run with a clear message instead of silently costing recall.
/// </summary>
public sealed partial class EvalSet(string name, string root, EvalLabels labels)
{
    public string Name { get; } = name;
    public string Root { get; } = root;
    public EvalLabels Labels { get; } = labels;

    public string MailDirectory => Path.Combine(Root, "mail");
    public string SlackDirectory => Path.Combine(Root, "slack");

    public IReadOnlyList<string> MailFiles => Files("mail", "*.eml");

    /// <summary>documents/ (with sub-folders) and uploads/: each posted to POST /api/documents.</summary>
    public IReadOnlyList<string> UploadFiles => [.. Files("documents", "*"), .. Files("uploads", "*")];

    public static EvalSet Load(string root)
    {
        var labelsPath = Path.Combine(root, "labels.json");
        if (!File.Exists(labelsPath))
        {
            throw new InvalidDataException($"{root} has no labels.json.");
        }

        var set = new EvalSet(Path.GetFileName(root.TrimEnd(Path.DirectorySeparatorChar)), root, EvalLabels.Read(labelsPath));
        set.Validate();
        return set;
    }

    /// <summary>Every quoted file exists and holds its quote (whitespace normalised); else one exception listing all problems.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        var texts = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (owner, quote) in Labels.AllQuotes())
        {
            if (!texts.TryGetValue(quote.File, out var text))
            {
                var path = Path.Combine(Root, quote.File);
                texts[quote.File] = text = File.Exists(path) ? VisibleText(path) : null;
            }

            if (text is null)
            {
                problems.Add($"{owner}: file {quote.File} does not exist");
            }
            else if (!Contains(text, quote.Quote))
            {
                problems.Add($"{owner}: \"{quote.Quote}\" is not in {quote.File}");
            }
        }

        foreach (var label in Labels.EntityLabels)
        {
            if (!File.Exists(Path.Combine(Root, label.File)))
            {
                problems.Add($"entityLabels: file {label.File} does not exist");
            }

            foreach (var person in label.People ?? [])
            {
                if (!Labels.People.Any(p => p.Name == person))
                {
                    problems.Add($"entityLabels {label.File}: person \"{person}\" is not in people");
                }
            }

            foreach (var organisation in label.Organisations ?? [])
            {
                if (!Labels.Organisations.Any(o => o.Name == organisation))
                {
                    problems.Add($"entityLabels {label.File}: organisation \"{organisation}\" is not in organisations");
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidDataException($"Evaluation set {Name} ({Root}) is inconsistent:\n  " + string.Join("\n  ", problems));
        }
    }

    /// <summary>
    /// The text a quote is taken from: an e-mail's subject and decoded body, the decoded "text" of every message of
    /// a Slack JSON file, the visible text of HTML, else the file itself.
    /// </summary>
    public static string VisibleText(string path)
    {
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".eml":
                using (var stream = File.OpenRead(path))
                {
                    var message = MimeMessage.Load(stream);
                    var body = message.TextBody ?? (message.HtmlBody is { } html ? HtmlText(html) : "");
                    return $"{message.Subject}\n{body}";
                }

            case ".json":
                var texts = new List<string>();
                using (var json = JsonDocument.Parse(File.ReadAllText(path)))
                {
                    CollectTexts(json.RootElement, texts);
                }

                return string.Join("\n", texts);

            case ".html" or ".htm":
                return HtmlText(File.ReadAllText(path));

            default:
                return File.ReadAllText(path);
        }
    }

    public static bool Contains(string text, string quote)
    {
        var haystack = Normalize(text);
        var needle = Normalize(quote);
        return haystack.Contains(needle, StringComparison.Ordinal)
            // Visible text of HTML may join elements without a space: compare without any whitespace as well.
            || Whitespace().Replace(haystack, "").Contains(Whitespace().Replace(needle, ""), StringComparison.Ordinal);
    }

    public static string Normalize(string text) => Whitespace().Replace(text.Replace('\u00A0', ' '), " ").Trim();

    private static string HtmlText(string html)
    {
        var document = new HtmlDocument();
        document.LoadHtml(html);
        foreach (var node in document.DocumentNode.SelectNodes("//script|//style")?.ToList() ?? [])
        {
            node.Remove();
        }

        var text = new StringBuilder();
        foreach (var node in document.DocumentNode.DescendantsAndSelf().Where(n => n.NodeType == HtmlNodeType.Text))
        {
            text.Append(HtmlEntity.DeEntitize(node.InnerText)).Append(' ');
        }

        return text.ToString();
    }

    private static void CollectTexts(JsonElement element, List<string> texts)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "text" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        texts.Add(property.Value.GetString()!);
                    }
                    else
                    {
                        CollectTexts(property.Value, texts);
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    CollectTexts(item, texts);
                }

                break;
        }
    }

    private List<string> Files(string folder, string pattern)
    {
        var directory = Path.Combine(Root, folder);
        return Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, pattern, SearchOption.AllDirectories)
                .Where(f => !Path.GetFileName(f).StartsWith('.'))
                .Order(StringComparer.Ordinal).ToList()
            : [];
    }

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Whitespace();
}
