using System.Text;
using System.Text.Unicode;
using UtfUnknown;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>
/// Bytes to text for formats that carry no reliable encoding of their own: a byte-order mark wins, then a charset
/// the container declared, then strict UTF-8, then statistical detection, and UTF-8 with replacement characters last.
/// </summary>
internal static class TextDecoding
{
    static TextDecoding() => EnsureCodePages();

    /// <summary>Legacy code pages (cp1252, iso-8859-x, shift_jis...) are not in .NET by default; the datasets need them.</summary>
    public static void EnsureCodePages() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static string Decode(ReadOnlySpan<byte> bytes, string? declaredCharset = null)
    {
        var encoding = DetectEncoding(bytes, declaredCharset, out var bomLength);
        return encoding.GetString(bytes[bomLength..]);
    }

    public static Encoding DetectEncoding(ReadOnlySpan<byte> bytes, string? declaredCharset, out int bomLength)
    {
        if (FromBom(bytes, out bomLength) is { } bom)
        {
            return bom;
        }

        // Without a BOM, UTF-16/32 still shows as NUL bytes in fixed positions, which no single-byte text has.
        if (FromNulPattern(bytes) is { } wide)
        {
            return wide;
        }

        // A declared UTF-8 that the bytes contradict is the commonest mislabel (legacy text served as utf-8).
        if (TryGetEncoding(declaredCharset) is { } declared && (declared.CodePage != Encoding.UTF8.CodePage || IsValidUtf8(bytes)))
        {
            return declared;
        }

        return Detect(bytes);
    }

    /// <summary>Strict UTF-8 first: legacy 8-bit text almost never validates as UTF-8, while detectors misjudge short UTF-8.</summary>
    public static Encoding Detect(ReadOnlySpan<byte> bytes)
    {
        if (IsValidUtf8(bytes))
        {
            return Encoding.UTF8;
        }

        try
        {
            var sample = bytes.Length > 256 * 1024 ? bytes[..(256 * 1024)] : bytes;
            var detected = CharsetDetector.DetectFromBytes(sample).Detected;
            // By name first, so the windows-1252 reading of "iso-8859-1" applies to detected encodings too.
            if (detected is { Confidence: > 0.2f } && (TryGetEncoding(detected.EncodingName) ?? detected.Encoding) is { } encoding)
            {
                return encoding;
            }
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            // A detector that names an encoding .NET cannot provide: fall through to the UTF-8 default.
        }

        return Encoding.UTF8;
    }

    public static Encoding? TryGetEncoding(string? charset)
    {
        if (string.IsNullOrWhiteSpace(charset))
        {
            return null;
        }

        var name = charset.Trim().Trim('"', '\'').ToLowerInvariant();
        // Browsers read "iso-8859-1" and "us-ascii" as windows-1252; so do we, or € and smart quotes turn into '?'.
        if (name is "iso-8859-1" or "latin1" or "us-ascii" or "ascii")
        {
            name = "windows-1252";
        }

        try
        {
            return Encoding.GetEncoding(name);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    public static bool IsValidUtf8(ReadOnlySpan<byte> bytes)
    {
        const int SampleLength = 1024 * 1024;
        if (bytes.Length <= SampleLength)
        {
            return Utf8.IsValid(bytes);
        }

        // Judge a prefix of big inputs, cut back to a character boundary so a split character does not count as invalid.
        var end = SampleLength;
        while (end > SampleLength - 4 && (bytes[end - 1] & 0xC0) == 0x80)
        {
            end--;
        }

        if (bytes[end - 1] >= 0xC0)
        {
            end--;
        }

        return Utf8.IsValid(bytes[..end]);
    }

    public static Encoding? FromBom(ReadOnlySpan<byte> bytes, out int length)
    {
        // UTF-32 LE shares its first two bytes with UTF-16 LE, so it is checked first.
        (Encoding? encoding, length) = bytes switch
        {
            [0xFF, 0xFE, 0x00, 0x00, ..] => (new UTF32Encoding(bigEndian: false, byteOrderMark: true), 4),
            [0x00, 0x00, 0xFE, 0xFF, ..] => (new UTF32Encoding(bigEndian: true, byteOrderMark: true), 4),
            [0xEF, 0xBB, 0xBF, ..] => (Encoding.UTF8, 3),
            [0xFF, 0xFE, ..] => (Encoding.Unicode, 2),
            [0xFE, 0xFF, ..] => (Encoding.BigEndianUnicode, 2),
            _ => ((Encoding?)null, 0)
        };
        return encoding;
    }

    public static bool HasWideEncoding(ReadOnlySpan<byte> bytes) =>
        FromBom(bytes, out _) is UnicodeEncoding or UTF32Encoding || FromNulPattern(bytes) is not null;

    private static Encoding? FromNulPattern(ReadOnlySpan<byte> bytes)
    {
        var sample = bytes.Length > 4096 ? bytes[..4096] : bytes;
        if (sample.Length < 8)
        {
            return null;
        }

        var nulsByPosition = new int[4];
        for (var i = 0; i < sample.Length; i++)
        {
            if (sample[i] == 0)
            {
                nulsByPosition[i % 4]++;
            }
        }

        var quarter = sample.Length / 4.0;
        bool Mostly(int position) => nulsByPosition[position] > quarter * 0.6;
        bool Rarely(int position) => nulsByPosition[position] < quarter * 0.1;

        if (Mostly(1) && Mostly(2) && Mostly(3) && Rarely(0))
        {
            return new UTF32Encoding(bigEndian: false, byteOrderMark: false);
        }

        if (Mostly(0) && Mostly(1) && Mostly(2) && Rarely(3))
        {
            return new UTF32Encoding(bigEndian: true, byteOrderMark: false);
        }

        if (Mostly(1) && Mostly(3) && Rarely(0) && Rarely(2))
        {
            return Encoding.Unicode;
        }

        if (Mostly(0) && Mostly(2) && Rarely(1) && Rarely(3))
        {
            return Encoding.BigEndianUnicode;
        }

        return null;
    }
}
