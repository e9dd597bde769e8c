using System.Text;
using MimeKit;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>
/// E-mail with MimeKit: a header block (From, To, Cc, Date, Subject, attachment names), then the body split into
/// own text, quotes and signature. HTML-only bodies go through the HTML parser. An mbox gives one such group per
/// message; attached messages (forwards, digests) follow their parent's group.
/// </summary>
internal static class EmailParser
{
    private const int MaxAttachedMessageDepth = 3;
    private const int MaxListedAddresses = 25;

    public static ParseResult Parse(byte[] content, ParsingSettings settings, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(Normalize(content, stripEnvelope: true), writable: false);
        var message = MimeMessage.Load(ParserOptions.Default, stream, cancellationToken);
        var writer = new BlockWriter();
        WriteMessage(message, writer, settings, 0, cancellationToken);
        return new ParseResult(
            writer.Blocks,
            Title: NullIfBlank(message.Subject),
            Author: AuthorOf(message),
            Date: DateOf(message));
    }

    public static ParseResult ParseMbox(byte[] content, ParsingSettings settings, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(Normalize(content, stripEnvelope: false), writable: false);
        var parser = new MimeParser(ParserOptions.Default, stream, MimeFormat.Mbox);
        var writer = new BlockWriter();
        MimeMessage? first = null;
        var count = 0;
        while (!parser.IsEndOfStream)
        {
            cancellationToken.ThrowIfCancellationRequested();
            MimeMessage message;
            try
            {
                message = parser.ParseMessage(cancellationToken);
            }
            catch (FormatException) when (count > 0)
            {
                // Trailing garbage after the last message: what was read stands.
                break;
            }

            first ??= message;
            count++;
            WriteMessage(message, writer, settings, 0, cancellationToken);
        }

        if (first is null)
        {
            throw new DocumentParseException("The mbox file holds no messages.");
        }

        return count == 1
            ? new ParseResult(writer.Blocks, NullIfBlank(first.Subject), AuthorOf(first), DateOf(first))
            : new ParseResult(writer.Blocks, Date: DateOf(first));
    }

    /// <summary>
    /// MimeKit reads bytes, not UTF-16: a message saved as UTF-16/32 (it happens) is re-encoded as UTF-8, and a
    /// leading mbox envelope line ("From sender date") is dropped.
    /// </summary>
    private static byte[] Normalize(byte[] content, bool stripEnvelope)
    {
        var bytes = content;
        if (TextDecoding.HasWideEncoding(content))
        {
            bytes = Encoding.UTF8.GetBytes(TextDecoding.Decode(content));
        }
        else if (content is [0xEF, 0xBB, 0xBF, ..])
        {
            bytes = content[3..];
        }

        if (stripEnvelope && bytes.AsSpan().StartsWith("From "u8))
        {
            var newline = Array.IndexOf(bytes, (byte)'\n');
            bytes = newline < 0 ? [] : bytes[(newline + 1)..];
        }

        return bytes;
    }

    private static void WriteMessage(MimeMessage message, BlockWriter writer, ParsingSettings settings, int depth, CancellationToken cancellationToken)
    {
        var subject = NullIfBlank(message.Subject);
        writer.Section = subject is null ? null : TextCleanup.CollapseWhitespace(subject);
        writer.Add(BlockKinds.EmailHeader, HeaderText(message));

        var body = BodyText(message, cancellationToken);
        if (body is not null)
        {
            foreach (var part in EmailBodySplitter.Split(body))
            {
                switch (part.Kind)
                {
                    case EmailPartKind.Body:
                        writer.Add(BlockKinds.EmailBody, part.Text);
                        break;
                    case EmailPartKind.Quote when settings.IncludeEmailQuotes:
                        writer.Add(BlockKinds.EmailQuote, part.Text);
                        break;
                    case EmailPartKind.Signature when settings.IncludeEmailSignatures:
                        writer.Add(BlockKinds.EmailSignature, part.Text);
                        break;
                }
            }
        }

        if (depth >= MaxAttachedMessageDepth)
        {
            return;
        }

        foreach (var attached in AttachedMessages(message.Body))
        {
            cancellationToken.ThrowIfCancellationRequested();
            WriteMessage(attached, writer, settings, depth + 1, cancellationToken);
        }
    }

    private static string HeaderText(MimeMessage message)
    {
        var lines = new List<string>();
        AddAddresses(lines, "From", message.From);
        AddAddresses(lines, "To", message.To);
        AddAddresses(lines, "Cc", message.Cc);
        if (DateOf(message) is { } date)
        {
            lines.Add($"Date: {date:R}");
        }

        if (NullIfBlank(message.Subject) is { } subject)
        {
            lines.Add($"Subject: {TextCleanup.CollapseWhitespace(subject)}");
        }

        var attachments = message.Attachments
            .Select(a => a is MimePart part ? part.FileName : a.ContentType?.Name)
            .Where(name => !string.IsNullOrWhiteSpace(name))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Take(MaxListedAddresses)
            .ToList();
        if (attachments.Count > 0)
        {
            lines.Add($"Attachments: {string.Join(", ", attachments)}");
        }

        return string.Join('\n', lines);
    }

    private static void AddAddresses(List<string> lines, string name, InternetAddressList addresses)
    {
        if (addresses.Count == 0)
        {
            return;
        }

        var shown = addresses.Take(MaxListedAddresses).Select(a => a.ToString()).Where(a => a.Length > 0).ToList();
        if (shown.Count == 0)
        {
            return;
        }

        var more = addresses.Count > MaxListedAddresses ? $" and {addresses.Count - MaxListedAddresses} more" : "";
        lines.Add($"{name}: {string.Join(", ", shown)}{more}");
    }

    /// <summary>The text body; else the HTML body as text (blockquotes kept as "&gt;" quotes); else any inline text part.</summary>
    private static string? BodyText(MimeMessage message, CancellationToken cancellationToken)
    {
        if (NullIfBlank(message.TextBody) is { } text)
        {
            return text;
        }

        if (NullIfBlank(message.HtmlBody) is { } html)
        {
            return HtmlAsText(html, cancellationToken);
        }

        foreach (var part in message.BodyParts.OfType<TextPart>())
        {
            if (part.IsAttachment)
            {
                continue;
            }

            var partText = NullIfBlank(part.Text);
            if (partText is null)
            {
                continue;
            }

            return part.IsHtml ? HtmlAsText(partText, cancellationToken) : partText;
        }

        return null;
    }

    private static string HtmlAsText(string html, CancellationToken cancellationToken)
    {
        var parsed = HtmlParser.Parse(html, cancellationToken, quoteBlockquotes: true);
        return string.Join("\n\n", parsed.Blocks.Select(b => b.Text));
    }

    /// <summary>Messages attached to this one (forwards, digests); messages inside those are reached through them.</summary>
    private static IEnumerable<MimeMessage> AttachedMessages(MimeEntity? entity)
    {
        switch (entity)
        {
            case MessagePart { Message: { } attached }:
                yield return attached;
                break;
            case Multipart multipart:
                foreach (var child in multipart)
                {
                    foreach (var nested in AttachedMessages(child))
                    {
                        yield return nested;
                    }
                }

                break;
        }
    }

    private static string? AuthorOf(MimeMessage message)
    {
        var mailbox = message.From.Mailboxes.FirstOrDefault();
        if (mailbox is null)
        {
            return NullIfBlank(message.From.ToString());
        }

        return string.IsNullOrWhiteSpace(mailbox.Name) ? mailbox.Address : $"{mailbox.Name} <{mailbox.Address}>";
    }

    private static DateTimeOffset? DateOf(MimeMessage message) =>
        message.Headers.Contains(HeaderId.Date) && message.Date != DateTimeOffset.MinValue ? message.Date : null;

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
