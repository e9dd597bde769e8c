using System.IO.Compression;
using System.Text;
using DocumentFormat.OpenXml.Packaging;
using W = DocumentFormat.OpenXml.Wordprocessing;

namespace SecondBrain.TestSupport.BadInputs;

/// <summary>
/// Inputs made to hurt a service's memory, generated on the fly into a stream (a file under /tmp for the benchmark,
/// memory for tests) so nothing large is committed: zip bombs, huge mboxes, Office parts that inflate to hundreds of
/// millions of characters, a large but honest docx. Shared by the integration tests and the memory-bounds benchmark.
/// </summary>
public static class BadInputs
{
    private static readonly string[] Words =
    [
        "release", "billing", "migration", "customer", "invoice", "deploy", "schedule", "review", "budget", "contract",
        "onboarding", "incident", "roadmap", "vendor", "security", "database", "pipeline", "forecast", "audit", "launch"
    ];

    /// <summary>A plain mail message (From, To, Subject, Date, Message-ID) with <paramref name="bodyWords"/> words.</summary>
    public static string Message(int n, int bodyWords = 60)
    {
        var body = new StringBuilder();
        for (var w = 0; w < bodyWords; w++)
        {
            body.Append(Words[(n * 7 + w * 3) % Words.Length]).Append(w % 12 == 11 ? ".\n" : " ");
        }

        return $"From: Person {n % 17} <person{n % 17}@example.test>\nTo: team@example.test\nSubject: Note {n} about the {Words[n % Words.Length]}\n"
            + $"Date: Mon, {n % 28 + 1} Jan 2024 10:{n % 60:D2}:00 +0000\nMessage-ID: <note-{n}@example.test>\n\n{body}\n";
    }

    /// <summary>
    /// An mbox: <paramref name="textMessages"/> ordinary messages, then messages carrying a base64 attachment of
    /// <paramref name="attachmentBytes"/> random bytes until the file reaches <paramref name="totalBytes"/> (most of a
    /// real archive's bytes are attachments; the parser indexes their names, so ingestion stays quick). Returns the
    /// number of messages written.
    /// </summary>
    public static int Mbox(Stream output, long totalBytes, int textMessages, int attachmentBytes = 2 * 1024 * 1024, int seed = 1)
    {
        var random = new Random(seed);
        using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        var count = 0;
        for (; count < textMessages; count++)
        {
            writer.Write($"From person{count % 17}@example.test Mon Jan  1 10:00:00 2024\n{Message(count)}\n");
        }

        writer.Flush();
        var attachment = new byte[attachmentBytes];
        while (output.Position < totalBytes)
        {
            random.NextBytes(attachment);
            writer.Write($"From person{count % 17}@example.test Mon Jan  1 10:00:00 2024\n");
            writer.Write($"From: Person {count % 17} <person{count % 17}@example.test>\nTo: team@example.test\nSubject: Scan {count}\n");
            writer.Write($"Date: Tue, 2 Jan 2024 09:00:00 +0000\nMessage-ID: <scan-{count}@example.test>\nMIME-Version: 1.0\n");
            writer.Write("Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nThe scan is attached.\n");
            writer.Write($"--b\nContent-Type: application/octet-stream; name=\"scan-{count}.bin\"\nContent-Disposition: attachment; filename=\"scan-{count}.bin\"\nContent-Transfer-Encoding: base64\n\n");
            writer.Write(Convert.ToBase64String(attachment, Base64FormattingOptions.InsertLineBreaks).Replace("\r\n", "\n"));
            writer.Write("\n--b--\n\n");
            writer.Flush();
            count++;
        }

        return count;
    }

    /// <summary>A zip whose entry <paramref name="bombName"/> inflates to <paramref name="inflatedBytes"/> zeros (about a thousandth of that compressed), beside <paramref name="others"/>.</summary>
    public static void ZipBomb(Stream output, long inflatedBytes, string bombName, IEnumerable<(string Path, byte[] Content)>? others = null)
    {
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (path, content) in others ?? [])
        {
            using var entry = zip.CreateEntry(path, CompressionLevel.Optimal).Open();
            entry.Write(content);
        }

        using var bomb = zip.CreateEntry(bombName, CompressionLevel.SmallestSize).Open();
        var block = new byte[1024 * 1024];
        for (long written = 0; written < inflatedBytes; written += block.Length)
        {
            bomb.Write(block, 0, (int)Math.Min(block.Length, inflatedBytes - written));
        }
    }

    /// <summary>A Slack workspace export with one ordinary message and a day file that inflates to <paramref name="inflatedBytes"/> of white space.</summary>
    public static void SlackExportBomb(Stream output, long inflatedBytes)
    {
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        Write(zip, "users.json", """[{"id":"U1","name":"ada","real_name":"Ada Lovelace"}]""");
        Write(zip, "channels.json", """[{"id":"C1","name":"general"}]""");
        Write(zip, "general/2024-01-01.json", """[{"type":"message","user":"U1","text":"The importer ships on Friday.","ts":"1704067200.000100"}]""");
        using var bomb = zip.CreateEntry("general/2024-01-02.json", CompressionLevel.SmallestSize).Open();
        bomb.WriteByte((byte)'[');
        var block = new byte[1024 * 1024];
        Array.Fill(block, (byte)' ');
        for (long written = 2; written < inflatedBytes; written += block.Length)
        {
            bomb.Write(block, 0, (int)Math.Min(block.Length, inflatedBytes - written));
        }

        bomb.WriteByte((byte)']');
    }

    /// <summary>A minimal docx whose body is one paragraph of <paramref name="characters"/> characters: small compressed, a bomb inflated.</summary>
    public static void DocxBomb(Stream output, long characters)
    {
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        Write(zip, "[Content_Types].xml", """<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>""");
        Write(zip, "_rels/.rels", """<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>""");
        using var body = new StreamWriter(zip.CreateEntry("word/document.xml", CompressionLevel.SmallestSize).Open(), new UTF8Encoding(false), 1 << 20);
        body.Write("""<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>""");
        var block = new string('A', 1 << 20);
        for (long written = 0; written < characters; written += block.Length)
        {
            body.Write(block.AsSpan(0, (int)Math.Min(block.Length, characters - written)));
        }

        body.Write("</w:t></w:r></w:p></w:body></w:document>");
    }

    /// <summary>
    /// An honest docx of about <paramref name="mediaBytes"/> (an embedded picture of random bytes, as large Word files
    /// usually are) with <paramref name="paragraphs"/> paragraphs of text. <paramref name="output"/> must be seekable.
    /// </summary>
    public static void LargeDocx(Stream output, long mediaBytes, int paragraphs, int seed = 2)
    {
        using var document = WordprocessingDocument.Create(output, DocumentFormat.OpenXml.WordprocessingDocumentType.Document);
        var main = document.AddMainDocumentPart();
        var body = new W.Body();
        body.Append(new W.Paragraph(new W.ParagraphProperties(new W.ParagraphStyleId { Val = "Heading1" }), new W.Run(new W.Text("Quarterly operations review"))));
        for (var p = 0; p < paragraphs; p++)
        {
            var message = Message(p, 50);
            body.Append(new W.Paragraph(new W.Run(new W.Text(message[(message.IndexOf("\n\n", StringComparison.Ordinal) + 2)..].Replace('\n', ' ')))));
        }

        main.Document = new W.Document(body);
        var image = main.AddImagePart(ImagePartType.Png);
        var random = new Random(seed);
        var bytes = new byte[1024 * 1024];
        using (var media = image.GetStream(FileMode.Create, FileAccess.Write))
        {
            for (long written = 0; written < mediaBytes; written += bytes.Length)
            {
                random.NextBytes(bytes);
                media.Write(bytes, 0, (int)Math.Min(bytes.Length, mediaBytes - written));
            }
        }
    }

    private static void Write(ZipArchive zip, string path, string content)
    {
        using var writer = new StreamWriter(zip.CreateEntry(path).Open(), new UTF8Encoding(false));
        writer.Write(content);
    }
}
