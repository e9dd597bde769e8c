using System.Text.RegularExpressions;

namespace SecondBrain.Core.Ingestion.Parsing;

internal enum EmailPartKind
{
    Body,
    Quote,
    Signature
}

internal sealed record EmailPart(EmailPartKind Kind, string Text);

/// <summary>
/// Tells an e-mail's own words from what it quotes and from its signature: "&gt;" quoted lines, the quoted tail
/// that follows "On ... wrote:" / "-----Original Message-----" / an Outlook "From: ... Sent: ..." header, and a
/// signature after a "-- " delimiter or a common sign-off followed by a short name block.
/// </summary>
internal static partial class EmailBodySplitter
{
    private const int MaxSignatureLines = 12;
    private const int MaxNameBlockLines = 6;
    private const int MaxNameLineLength = 70;

    [GeneratedRegex(@"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original)\s*-{2,}\s*$", RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex OriginalMessage();

    [GeneratedRegex(@"^\s*(On|Am|Le|El|Il|Op|Den|Em)\s.*\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef|skrev|escreveu)\s*:\s*$", RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex Wrote();

    [GeneratedRegex(@"^\s*(On|Am|Le|El|Il|Op|Den|Em)\s", RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex WroteStart();

    [GeneratedRegex(@"\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef|skrev|escreveu)\s*:\s*$", RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex WroteEnd();

    [GeneratedRegex(@"^\s*\*?(From|Von|De)\*?\s*:\s*\S", RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex OutlookFrom();

    [GeneratedRegex(@"^\s*\*?(Sent|Date|Gesendet|Envoyé|Enviado)\*?\s*:\s*\S", RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex OutlookSent();

    [GeneratedRegex(@"forwarded message|begin forwarded message|weitergeleitete nachricht", RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex Forwarded();

    [GeneratedRegex(
        @"^\s*(best|best regards|kind regards|warm regards|warmest regards|regards|many thanks|thanks|thanks again|thanks so much|thank you|thank you very much|thx|cheers|sincerely|sincerely yours|yours|yours truly|yours sincerely|best wishes|all the best|take care|respectfully|cordially|br|rgds|mit freundlichen grüßen|viele grüße|gruß|cordialement|saludos|un saludo)\s*[,.!]*\s*$",
        RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex SignOff();

    [GeneratedRegex(@"^\s*(Sent from my|Get Outlook for|Sent from Mail for|Sent with )", RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex DeviceSignature();

    public static IReadOnlyList<EmailPart> Split(string body)
    {
        var lines = body.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        var tail = FindQuotedTail(lines, out var attributionEnd);
        if (attributionEnd > 0 && IsInterleaved(lines, attributionEnd))
        {
            // An inline reply: the answers sit between the quoted lines, so only the attribution and the "> " lines
            // are quotes, not everything after "... wrote:".
            lines = [.. lines[..tail], .. lines[tail..attributionEnd].Select(line => "> " + line), .. lines[attributionEnd..]];
            tail = lines.Length;
        }

        var head = lines[..tail];
        var parts = new List<EmailPart>();

        var runs = QuoteRuns(head);
        var lastTextRun = runs.FindLastIndex(r => !r.Quote && r.Lines.Any(l => l.Trim().Length > 0));
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            if (run.Quote)
            {
                parts.Add(new EmailPart(EmailPartKind.Quote, Unquote(run.Lines)));
                continue;
            }

            if (i == lastTextRun && FindSignature(run.Lines) is { } signatureStart)
            {
                AddBody(parts, run.Lines[..signatureStart]);
                parts.Add(new EmailPart(EmailPartKind.Signature, string.Join('\n', run.Lines[signatureStart..]).Trim()));
                continue;
            }

            AddBody(parts, run.Lines);
        }

        if (tail < lines.Length)
        {
            var quoted = string.Join('\n', lines[tail..]).Trim();
            if (quoted.Length > 0)
            {
                parts.Add(new EmailPart(EmailPartKind.Quote, quoted));
            }
        }

        return parts;
    }

    private static void AddBody(List<EmailPart> parts, string[] lines)
    {
        foreach (var paragraph in TextCleanup.SplitParagraphs(string.Join('\n', lines)))
        {
            parts.Add(new EmailPart(EmailPartKind.Body, paragraph));
        }
    }

    /// <summary>The first line of a quoted tail, or the line count when there is none.</summary>
    internal static int FindQuotedTail(string[] lines, out int attributionEnd)
    {
        attributionEnd = -1;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith('>'))
            {
                continue;
            }

            if (OriginalMessage().IsMatch(line))
            {
                return i;
            }

            if (Wrote().IsMatch(line))
            {
                attributionEnd = i + 1;
                return i;
            }

            // "--- Name <address> wrote:" (Yahoo) or any "... wrote:" line that introduces "> " quoted lines.
            if (WroteEnd().IsMatch(line) && line.Length < 300
                && (line.TrimStart().StartsWith("--", StringComparison.Ordinal) || NextNonBlankIsQuoted(lines, i)))
            {
                attributionEnd = i + 1;
                return i;
            }

            // Clients wrap a long "On <date>, <name> <address> wrote:" over two or three lines.
            if (WroteStart().IsMatch(line) && !WroteEnd().IsMatch(line))
            {
                for (var j = i + 1; j < Math.Min(lines.Length, i + 3); j++)
                {
                    if (lines[j].Trim().Length == 0)
                    {
                        break;
                    }

                    if (WroteEnd().IsMatch(lines[j]) && lines[i..(j + 1)].Sum(l => l.Length) < 400)
                    {
                        attributionEnd = j + 1;
                        return i;
                    }
                }
            }

            if (OutlookFrom().IsMatch(line) && IsOutlookHeader(lines, i) && !FollowsForwardMarker(lines, i))
            {
                // An Outlook separator line (underscores) just above belongs to the tail too.
                return i > 0 && lines[i - 1].Trim() is { Length: >= 5 } above && above.All(c => c is '_' or '-') ? i - 1 : i;
            }
        }

        return lines.Length;
    }

    /// <summary>Own (unquoted) lines follow "&gt; " quoted ones after the attribution.</summary>
    private static bool IsInterleaved(string[] lines, int from)
    {
        var quoted = false;
        for (var j = from; j < lines.Length; j++)
        {
            var line = lines[j].TrimStart();
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('>'))
            {
                quoted = true;
            }
            else if (quoted)
            {
                return true;
            }
        }

        return false;
    }

    private static bool NextNonBlankIsQuoted(string[] lines, int index)
    {
        for (var j = index + 1; j < lines.Length; j++)
        {
            if (lines[j].Trim().Length > 0)
            {
                return lines[j].TrimStart().StartsWith('>');
            }
        }

        return false;
    }

    private static bool IsOutlookHeader(string[] lines, int from)
    {
        for (var j = from + 1; j < Math.Min(lines.Length, from + 5); j++)
        {
            if (OutlookSent().IsMatch(lines[j]))
            {
                return true;
            }
        }

        return false;
    }

    private static bool FollowsForwardMarker(string[] lines, int index)
    {
        for (var j = index - 1; j >= Math.Max(0, index - 3); j--)
        {
            if (Forwarded().IsMatch(lines[j]))
            {
                return true;
            }
        }

        return false;
    }

    private sealed record Run(bool Quote, string[] Lines);

    /// <summary>Alternating runs of own text and "&gt;" quoted lines; a blank line between two quoted lines stays in the quote.</summary>
    private static List<Run> QuoteRuns(string[] lines)
    {
        var isQuote = new bool[lines.Length];
        for (var i = 0; i < lines.Length; i++)
        {
            isQuote[i] = lines[i].TrimStart().StartsWith('>');
        }

        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length != 0)
            {
                continue;
            }

            var previous = i - 1;
            while (previous >= 0 && lines[previous].Trim().Length == 0)
            {
                previous--;
            }

            var next = i + 1;
            while (next < lines.Length && lines[next].Trim().Length == 0)
            {
                next++;
            }

            isQuote[i] = previous >= 0 && next < lines.Length && isQuote[previous] && isQuote[next];
        }

        var runs = new List<Run>();
        var start = 0;
        for (var i = 1; i <= lines.Length; i++)
        {
            if (i == lines.Length || isQuote[i] != isQuote[start])
            {
                var runLines = lines[start..i];
                var quote = isQuote[start];
                // mbox writers escape a body line starting with "From " as ">From "; alone, it is not a quote.
                if (quote && runLines.Length == 1 && runLines[0].TrimStart().StartsWith(">From ", StringComparison.Ordinal))
                {
                    runLines = [runLines[0].TrimStart()[1..]];
                    quote = false;
                }

                if (runs.Count > 0 && runs[^1].Quote == quote)
                {
                    runs[^1] = runs[^1] with { Lines = [.. runs[^1].Lines, .. runLines] };
                }
                else
                {
                    runs.Add(new Run(quote, runLines));
                }

                start = i;
            }
        }

        return runs;
    }

    private static string Unquote(string[] lines) =>
        string.Join('\n', lines.Select(line =>
        {
            var trimmed = line.TrimStart();
            if (!trimmed.StartsWith('>'))
            {
                return line;
            }

            trimmed = trimmed[1..];
            return trimmed.StartsWith(' ') ? trimmed[1..] : trimmed;
        })).Trim();

    /// <summary>Index of the first signature line in the last stretch of own text, or null.</summary>
    internal static int? FindSignature(string[] lines)
    {
        var end = lines.Length;
        while (end > 0 && lines[end - 1].Trim().Length == 0)
        {
            end--;
        }

        if (end == 0)
        {
            return null;
        }

        // The RFC 3676 delimiter is "-- "; many clients strip the trailing space.
        for (var i = Math.Max(0, end - MaxSignatureLines - 1); i < end; i++)
        {
            if (lines[i].TrimEnd() == "--" && i > 0 && end - i - 1 <= MaxSignatureLines)
            {
                return i;
            }
        }

        for (var i = Math.Max(1, end - MaxNameBlockLines - 1); i < end; i++)
        {
            if (SignOff().IsMatch(lines[i]))
            {
                var nameBlock = lines[(i + 1)..end].Where(l => l.Trim().Length > 0).ToList();
                if (nameBlock.Count is >= 1 and <= MaxNameBlockLines && nameBlock.All(l => l.Trim().Length <= MaxNameLineLength))
                {
                    return i;
                }
            }
        }

        for (var i = Math.Max(1, end - 3); i < end; i++)
        {
            if (DeviceSignature().IsMatch(lines[i]))
            {
                return i;
            }
        }

        return null;
    }
}
