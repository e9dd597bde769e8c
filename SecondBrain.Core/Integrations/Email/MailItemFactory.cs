using System.Globalization;
using MimeKit;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Email;

/// <summary>
/// Turns one raw RFC 822 message (from Gmail, an .eml, an mbox or a maildir) into a <see cref="SourceItem"/>,
/// reading only what the sync needs (subject, sender, date, ids); the body stays raw for ingestion to parse.
/// </summary>
public static class MailItemFactory
{
    public const string ContentType = "message/rfc822";

    /// <summary>The item, or a failure with a reason when the bytes are not a readable message.</summary>
    public static (SourceItem? Item, SourceItemFailure? Failure) FromRaw(string externalId, byte[] raw, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        if (raw.Length == 0)
        {
            return (null, new SourceItemFailure(externalId, "The message is empty."));
        }

        MimeMessage message;
        try
        {
            using var stream = new MemoryStream(raw, writable: false);
            message = MimeMessage.Load(stream);
        }
        catch (FormatException ex)
        {
            return (null, new SourceItemFailure(externalId, $"Not a readable e-mail message: {ex.Message}"));
        }

        if (message.Headers.Count == 0)
        {
            return (null, new SourceItemFailure(externalId, "The message has no headers."));
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (message.MessageId is { Length: > 0 } messageId)
        {
            metadata["messageId"] = messageId;
        }

        if (message.InReplyTo is { Length: > 0 } inReplyTo)
        {
            metadata["inReplyTo"] = inReplyTo;
        }

        if (message.To.Count > 0)
        {
            metadata["to"] = message.To.ToString();
        }

        if (extraMetadata is not null)
        {
            foreach (var (key, value) in extraMetadata)
            {
                metadata[key] = value;
            }
        }

        // A missing or unparsable Date header leaves MimeKit's DateTimeOffset.MinValue; that is "unknown", not year 1.
        DateTimeOffset? date = message.Date == DateTimeOffset.MinValue ? null : message.Date;
        var from = message.From.Mailboxes.FirstOrDefault();
        var author = from is null ? message.From.ToString() : string.IsNullOrWhiteSpace(from.Name) ? from.Address : $"{from.Name} <{from.Address}>";
        var title = string.IsNullOrWhiteSpace(message.Subject) ? "(no subject)" : message.Subject.Trim();

        return (new SourceItem(externalId, title, string.IsNullOrWhiteSpace(author) ? null : author, date, ContentType, null, raw, metadata), null);
    }

    public static string FormatDate(DateTimeOffset? date) => date?.ToString("O", CultureInfo.InvariantCulture) ?? "";
}
