using System.Text.RegularExpressions;
using SecondBrain.Core.Ingestion;

namespace SecondBrain.Core.Search.Answers;

/// <summary>
/// What an extractive answer must never quote: mail headers, quoted earlier messages, signatures and sign-offs,
/// navigation and boilerplate of web pages. Whole chunks are skipped by kind (the e-mail parser keeps headers, quotes
/// and signatures in chunks of their own); lines are checked too, for text that arrived without that structure
/// (a pasted mail, an HTML page's menu).
/// </summary>
public static partial class SentenceFilter
{
    private static readonly HashSet<string> NoiseChunkKinds = new(StringComparer.Ordinal)
    {
        BlockKinds.EmailHeader, BlockKinds.EmailQuote, BlockKinds.EmailSignature
    };

    private static readonly HashSet<string> NavigationWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "home", "about", "contact", "login", "log in", "sign in", "sign up", "menu", "search", "skip to content", "back to top",
        "privacy", "terms", "cookies", "next", "previous", "share", "print", "subscribe", "help", "sitemap", "careers", "blog"
    };

    public static bool IsNoiseChunk(string? kind) => kind is not null && NoiseChunkKinds.Contains(kind);

    /// <summary>The lines of a chunk worth quoting: a signature ends the text, quotes and headers are dropped.</summary>
    public static IEnumerable<string> ContentLines(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line is "--" || raw.TrimEnd('\r') == "-- " || SignatureStart().IsMatch(line) || OriginalMessage().IsMatch(line))
            {
                yield break; // everything after a signature delimiter or a forwarded original is not this message's
            }

            if (line.Length == 0 || IsNoiseLine(line))
            {
                continue;
            }

            yield return line;
        }
    }

    public static bool IsNoiseLine(string line) =>
        line.StartsWith('>')
        || HeaderLine().IsMatch(line)
        || ReplyAttribution().IsMatch(line)
        || SignOff().IsMatch(line)
        || Boilerplate().IsMatch(line)
        || IsNavigation(line)
        || ContactOnly().IsMatch(line);

    /// <summary>A menu or breadcrumb: a short run of link words, or pieces joined by separators, with no sentence in it.</summary>
    private static bool IsNavigation(string line)
    {
        if (line.Length > 160 || line.EndsWith('.') || line.EndsWith('?') || line.EndsWith('!'))
        {
            return false;
        }

        var pieces = NavigationSeparator().Split(line).Select(p => p.Trim()).Where(p => p.Length > 0).ToList();
        if (pieces.Count >= 3 && pieces.All(p => p.Split(' ').Length <= 3))
        {
            return true;
        }

        return pieces.Count > 0 && pieces.All(p => NavigationWords.Contains(p));
    }

    [GeneratedRegex(@"^(from|to|cc|bcc|date|sent|subject|reply-to|message-id|in-reply-to|references|importance|attachments?)\s*:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex HeaderLine();

    [GeneratedRegex(@"^(on\s.{4,120}\swrote:|.{2,80}\s(wrote|schrieb|a écrit)\s?:)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex ReplyAttribution();

    [GeneratedRegex(@"^-{2,}\s*(original message|forwarded message)\s*-{2,}|^begin forwarded message:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex OriginalMessage();

    [GeneratedRegex(@"^(sent from my \w+|get outlook for \w+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex SignatureStart();

    [GeneratedRegex(@"^(best|best regards|kind regards|regards|thanks|thank you|many thanks|cheers|sincerely|yours|br|hi|hello|hey|dear)\b[\w\s]{0,30}[,!.]?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex SignOff();

    [GeneratedRegex(@"(©|\(c\)|copyright\s\d{4}|all rights reserved|unsubscribe|view (this|in) (email|browser)|cookie (policy|settings))", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Boilerplate();

    [GeneratedRegex(@"^([+()\d\s.-]{7,}|[\w.+-]+@[\w-]+(\.[\w-]+)+|https?://\S+|(tel|phone|mobile|fax|www)[:.]?\s.*)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex ContactOnly();

    [GeneratedRegex(@"\s[|»›·•/]\s|\s{3,}|\t", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex NavigationSeparator();
}
