using System.Globalization;

namespace SecondBrain.Core.Integrations.Email;

/// <summary>One message cut from an mbox: its raw bytes, or why it was not kept.</summary>
internal readonly record struct MboxMessage(int Index, byte[]? Raw, string? Error);

/// <summary>
/// Cuts an mbox stream into its messages at lines that start with "From " (the boundary MimeKit's mbox parser and
/// mbox tools use; ">From " in a body is an escaped line, not a boundary), reading the stream once, forwards, with
/// one message in memory at a time. It works on streams that cannot seek (an mbox being inflated from a zip) and
/// returns each message's exact bytes without its envelope line, which a MIME parser does not give back. A message
/// above <c>maxMessageBytes</c> is skipped with an error instead of being buffered.
/// </summary>
internal static class MboxSplitter
{
    private static readonly byte[] FromMarker = "From "u8.ToArray();

    public static IEnumerable<MboxMessage> Split(Stream stream, long maxMessageBytes, CancellationToken cancellationToken)
    {
        var message = new MemoryStream();
        var inMessage = false;
        var inEnvelope = false;
        var oversized = false;
        var index = 0;
        foreach (var (piece, lineStart) in Pieces(stream))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (lineStart && piece.Span.StartsWith(FromMarker))
            {
                if (inMessage)
                {
                    yield return Finish(index++, message, oversized, maxMessageBytes);
                }

                message.SetLength(0);
                (inMessage, oversized) = (true, false);
                inEnvelope = piece.Span[^1] != '\n';
                continue;
            }

            if (inEnvelope)
            {
                // The rest of a long envelope line; it is not part of the message.
                inEnvelope = piece.Span[^1] != '\n';
                continue;
            }

            // Bytes before the first "From " line belong to no message (a preamble or stray text) and are dropped.
            if (!inMessage || oversized)
            {
                continue;
            }

            if (message.Length + piece.Length > maxMessageBytes)
            {
                oversized = true;
                message.SetLength(0);
                continue;
            }

            message.Write(piece.Span);
        }

        if (inMessage)
        {
            yield return Finish(index, message, oversized, maxMessageBytes);
        }
    }

    /// <summary>
    /// The stream in pieces that never cross a line end; the first piece of a line holds at least its first five
    /// bytes (or the whole line when shorter), so a boundary is recognised however the reads fall. A piece is valid
    /// until the next one is taken.
    /// </summary>
    private static IEnumerable<(ReadOnlyMemory<byte> Piece, bool LineStart)> Pieces(Stream stream)
    {
        var buffer = new byte[64 * 1024];
        int start = 0, end = 0;
        var lineStart = true;
        var ended = false;
        while (true)
        {
            if (end - start < FromMarker.Length && !ended)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                (end, start) = (end - start, 0);
                var read = stream.Read(buffer, end, buffer.Length - end);
                if (read > 0)
                {
                    end += read;
                    continue;
                }

                ended = true;
            }

            if (start == end)
            {
                yield break;
            }

            var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            var length = newline >= 0 ? newline + 1 : end - start;
            yield return (buffer.AsMemory(start, length), lineStart);
            start += length;
            lineStart = newline >= 0;
        }
    }

    private static MboxMessage Finish(int index, MemoryStream message, bool oversized, long maxMessageBytes)
    {
        if (oversized)
        {
            return new MboxMessage(index, null, string.Create(CultureInfo.InvariantCulture,
                $"Message {index} of the mbox is larger than {maxMessageBytes / (1024 * 1024)} MB, the limit per message; it was skipped."));
        }

        // The line break before the next "From " line separates messages; it is not the message's.
        var length = (int)message.Length;
        var bytes = message.GetBuffer();
        if (length > 0 && bytes[length - 1] == '\n')
        {
            length--;
            if (length > 0 && bytes[length - 1] == '\r')
            {
                length--;
            }
        }

        return new MboxMessage(index, bytes.AsSpan(0, length).ToArray(), null);
    }
}
