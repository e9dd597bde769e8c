using System.IO.Compression;
using System.Text;
using SecondBrain.Core.Integrations.Email;
using SecondBrain.Core.Storage;
using SecondBrain.Core.Sync;
using SecondBrain.Tests.Unit.Storage;
using Xunit.Abstractions;

namespace SecondBrain.Tests.Unit.Integrations;

public sealed class EmailArchiveTests(ITestOutputHelper output)
{
    private const string Enron = "enron-maildir-sample";
    private const string MikelFixtures = "email-fixtures-mikel-mail/spec/fixtures/emails";

    [DatasetFact(Enron)]
    public async Task Enron_maildir_zip_imports_all_300_messages_with_their_paths_as_ids()
    {
        var root = DatasetPath(Enron)!;
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToList();
        var zip = Zip(files.Select(f => (Relative(root, f), File.ReadAllBytes(f))));

        var (items, failures, pages) = await ReadAllAsync("enron.zip", zip);

        Assert.Equal(300, files.Count);
        Assert.Empty(failures);
        Assert.Equal(300, items.Count);
        Assert.All(pages, p => Assert.Equal(300, p.EstimatedTotal));
        Assert.All(pages, p => Assert.True(p.Items.Count + p.Failures.Count <= new ArchiveImportOptions().PageSize));
        Assert.Equal(files.Select(f => Relative(root, f)).Order(StringComparer.Ordinal), items.Select(i => i.ExternalId).Order(StringComparer.Ordinal));
        Assert.All(items, i => Assert.Equal(MailItemFactory.ContentType, i.ContentType));
        Assert.All(items, i => Assert.NotNull(i.CreatedAt));

        var laid = Assert.Single(items, i => i.ExternalId == "maildir/lay-k/inbox/3");
        Assert.Equal("Houston Pipel Line Company Departure", laid.Title);
        Assert.Equal("maildir/lay-k/inbox", laid.Metadata["folder"]);
        Assert.Equal("maildir/lay-k/inbox/3", laid.Metadata["path"]);
    }

    [DatasetFact(Enron)]
    public async Task Paging_is_deterministic_whatever_order_the_zip_lists_its_entries_in()
    {
        var root = DatasetPath(Enron)!;
        var entries = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => (Relative(root, f), File.ReadAllBytes(f))).ToList();

        var forward = (await ReadAllAsync("a.zip", Zip(entries))).Pages;
        entries.Reverse();
        var backward = (await ReadAllAsync("b.zip", Zip(entries))).Pages;

        Assert.Equal(forward.Select(p => p.NextCursor), backward.Select(p => p.NextCursor));
        Assert.Equal(forward.SelectMany(p => p.Items).Select(i => i.ExternalId), backward.SelectMany(p => p.Items).Select(i => i.ExternalId));

        // Resuming from the middle checkpoint gives exactly the pages after it, even on a worker that has to stage the
        // archive again (another run's storage here: nothing staged).
        var middle = forward[0].NextCursor;
        var resumed = (await ReadAllAsync("a.zip", Zip(entries), middle)).Items.Select(i => i.ExternalId);
        Assert.Equal(forward.Skip(1).SelectMany(p => p.Items).Select(i => i.ExternalId), resumed);
    }

    [DatasetFact(MikelFixtures)]
    public async Task Every_fixture_including_the_broken_ones_ends_as_an_item_or_a_failure_with_a_reason()
    {
        var root = DatasetPath(MikelFixtures)!;
        var files = Directory.EnumerateFiles(root, "*.eml", SearchOption.AllDirectories).ToList();
        var zip = Zip(files.Select(f => (Relative(root, f), File.ReadAllBytes(f))));

        var (items, failures, pages) = await ReadAllAsync("fixtures.zip", zip);

        Assert.Equal(103, files.Count);
        Assert.Equal(files.Count, items.Count + failures.Count);
        Assert.Equal(files.Count, pages[0].EstimatedTotal);
        Assert.All(failures, f => Assert.False(string.IsNullOrWhiteSpace(f.Reason)));
        var ids = items.Select(i => i.ExternalId).Concat(failures.Select(f => f.ExternalId)).ToList();
        Assert.Equal(files.Select(f => Relative(root, f)).Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
        Assert.Contains(items, i => i.ExternalId.StartsWith("error_emails/", StringComparison.Ordinal));
        output.WriteLine($"{items.Count} items, {failures.Count} failures");
        foreach (var failure in failures)
        {
            output.WriteLine($"{failure.ExternalId}: {failure.Reason}");
        }
    }

    [Fact]
    public async Task Mbox_round_trips_every_message_and_resumes_from_the_middle_cursor()
    {
        var messages = Enumerable.Range(0, 7).Select(Message).ToList();
        var mbox = Mbox(messages);

        var (items, failures, pages) = await ReadAllAsync("team.mbox", mbox, pageSize: 3);

        Assert.Empty(failures);
        Assert.Equal(3, pages.Count);
        Assert.All(pages, p => Assert.Equal(7, p.EstimatedTotal));
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"mbox:{i}"), items.Select(i => i.ExternalId));
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"Message number {i}"), items.Select(i => i.Title));
        for (var i = 0; i < messages.Count; i++)
        {
            // The stored bytes are the message itself: no envelope line, nothing of its neighbours.
            Assert.Equal(messages[i].TrimEnd('\n'), Encoding.ASCII.GetString(items[i].Content!).TrimEnd('\n'));
            Assert.Equal("team", items[i].Metadata["folder"]);
        }

        var resumed = await ReadAllAsync("team.mbox", mbox, pages[0].NextCursor, pageSize: 3);
        Assert.Equal(items.Skip(3).Select(i => i.ExternalId), resumed.Items.Select(i => i.ExternalId));
        Assert.Equal(items.Skip(3).Select(i => i.Title), resumed.Items.Select(i => i.Title));
        Assert.Equal(pages[1].NextCursor, resumed.Pages[0].NextCursor);
    }

    [Fact]
    public async Task A_zip_mixing_eml_maildir_and_mbox_reads_them_all_in_path_order_and_skips_what_is_not_mail()
    {
        var zip = Zip(
        [
            ("Mail/Inbox/cur/1700000000.M1P1.host:2,S", Encoding.ASCII.GetBytes(Message(1))),
            ("Mail/Inbox/new/1700000001.M2P2.host", Encoding.ASCII.GetBytes(Message(2))),
            ("Mail/Inbox/tmp/1700000002.M3P3.host", Encoding.ASCII.GetBytes(Message(3))),
            ("Mail/dovecot-uidlist", "3 V1700000000 N3\n"u8.ToArray()),
            ("Mail/README.txt", "not mail"u8.ToArray()),
            ("Exports/old.mbox", Mbox([Message(4), Message(5)])),
            ("Thunderbird/Sent", Mbox([Message(6)])),
            ("loose/hello.eml", Encoding.ASCII.GetBytes("From someone@example.com Mon Jan  1 00:00:00 2024\n" + Message(7))),
            ("loose/empty.eml", []),
            ("__MACOSX/loose/._hello.eml", [0, 5, 22, 7])
        ]);

        var (items, failures, pages) = await ReadAllAsync("mixed.zip", zip, pageSize: 2);

        var broken = Assert.Single(failures);
        Assert.Equal("loose/empty.eml", broken.ExternalId);
        Assert.Contains("empty", broken.Reason);
        Assert.Equal(
            ["Exports/old.mbox/mbox:0", "Exports/old.mbox/mbox:1", "Mail/Inbox/cur/1700000000.M1P1.host:2,S", "Mail/Inbox/new/1700000001.M2P2.host", "Thunderbird/Sent/mbox:0", "loose/hello.eml"],
            items.Select(i => i.ExternalId));
        Assert.All(pages, p => Assert.Equal(7, p.EstimatedTotal));
        Assert.Equal("Mail/Inbox", items[2].Metadata["folder"]);
        Assert.Equal("Exports/old", items[0].Metadata["folder"]);
        Assert.Equal("Message number 7", items[5].Title);
    }

    [Fact]
    public async Task A_single_eml_upload_is_one_item_named_after_the_file()
    {
        var imports = new ImportHarness();
        var id = imports.Uploads.Add("Quarterly review.eml", Encoding.ASCII.GetBytes(Message(42)), "message/rfc822");
        var reader = imports.EmailReader();

        var page = await reader.ReadPageAsync(ImportHarness.Run(id), null, CancellationToken.None);

        Assert.Equal(Sources.EmailArchive, reader.Source);
        var item = Assert.Single(page.Items);
        Assert.Equal("Quarterly review.eml", item.ExternalId);
        Assert.Equal("Message number 42", item.Title);
        Assert.Equal("Alice Example <alice@example.com>", item.Author);
        Assert.Null(page.NextCursor);
        Assert.Equal(1, page.EstimatedTotal);
    }

    [Fact]
    public async Task A_missing_upload_is_an_invalid_source()
    {
        var reader = new ImportHarness().EmailReader();

        await Assert.ThrowsAsync<InvalidSourceException>(() => reader.ReadPageAsync(ImportHarness.Run(Guid.NewGuid()), null, CancellationToken.None));
    }

    [Fact]
    public void Random_bytes_a_pdf_an_empty_file_and_a_zip_without_mail_are_refused_with_a_reason()
    {
        var random = new byte[4096];
        new Random(7).NextBytes(random);

        var noise = Assert.Throws<InvalidSourceException>(() => Parse("archive.eml", random));
        Assert.Contains("not an e-mail message", noise.Message);
        Assert.Contains("PDF", Assert.Throws<InvalidSourceException>(() => Parse("mail.mbox", "%PDF-1.7\n%\xE2\xE3\n1 0 obj"u8.ToArray())).Message);
        Assert.Contains("empty", Assert.Throws<InvalidSourceException>(() => Parse("x.eml", [])).Message);
        Assert.Contains("holds no e-mail", Assert.Throws<InvalidSourceException>(() => Parse("docs.zip", Zip([("a/notes.txt", "hello"u8.ToArray())]))).Message);
        Assert.Contains("zip", Assert.Throws<InvalidSourceException>(() => Parse("broken.zip", "PK\x03\x04 truncated"u8.ToArray())).Message);
    }

    [Theory]
    [InlineData("x.bin", "PK\u0003\u0004rest", EmailArchiveKind.Zip)]
    [InlineData("x.txt", "From a@b.c Mon Jan  1 00:00:00 2024\nSubject: x\n\nbody", EmailArchiveKind.Mbox)]
    [InlineData("x.eml", "From a@b.c Mon Jan  1 00:00:00 2024\nSubject: x\n\nbody", EmailArchiveKind.Eml)]
    [InlineData("x", "Received: from mx\nSubject: x\n\nbody", EmailArchiveKind.Eml)]
    public void Kind_comes_from_magic_bytes_then_the_name(string name, string content, EmailArchiveKind expected) =>
        Assert.Equal(expected, EmailArchiveParser.Detect(name, Encoding.Latin1.GetBytes(content)));

    /// <summary>Every page of an import of <paramref name="content"/>, through the reader a worker uses, on fresh storage.</summary>
    private static async Task<(List<SourceItem> Items, List<SourceItemFailure> Failures, List<SourcePage> Pages)> ReadAllAsync(
        string fileName, byte[] content, string? cursor = null, int pageSize = 100)
    {
        var imports = new ImportHarness(new ArchiveImportOptions { PageSize = pageSize });
        var upload = imports.Uploads.Add(fileName, content);
        var run = ImportHarness.Run(upload);
        var result = await ImportHarness.ReadAllAsync(imports.EmailReader(), run, cursor);
        // Read once per run: however many pages, the upload was opened once (to stage it).
        Assert.Equal(1, imports.Blobs.Opens[UploadStore.KeyOf(upload)]);
        return result;
    }

    private static List<ArchiveRecord> Parse(string fileName, byte[] content) =>
        EmailArchiveParser.Read(fileName, new MemoryStream(content), new ArchiveImportOptions(), CancellationToken.None).ToList();

    private static string Message(int n) =>
        $"From: Alice Example <alice@example.com>\nTo: team@example.com\nSubject: Message number {n}\n" +
        $"Date: Mon, {n % 28 + 1} Jan 2024 10:00:00 +0000\nMessage-ID: <m{n}@example.com>\n\n" +
        $"Body of message {n}.\n>From the archive: an escaped line.\n";

    private static byte[] Mbox(IEnumerable<string> messages) =>
        Encoding.ASCII.GetBytes(string.Concat(messages.Select((m, i) => $"From alice@example.com Mon Jan  {i % 9 + 1} 10:00:00 2024\n{m}\n")));

    private static byte[] Zip(IEnumerable<(string Path, byte[] Content)> entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, content) in entries)
            {
                using var stream = zip.CreateEntry(path, CompressionLevel.Fastest).Open();
                stream.Write(content);
            }
        }

        return buffer.ToArray();
    }

    private static string Relative(string root, string file) => Path.GetRelativePath(root, file).Replace('\\', '/');

    /// <summary>
    /// The shared datasets folder: SECONDBRAIN_DATASETS, else the first <c>shared/datasets</c> found walking up from
    /// the test binaries. A fresh clone has neither, so dataset tests skip rather than fail.
    /// </summary>
    private static string? DatasetPath(string relative)
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("SECONDBRAIN_DATASETS") is { Length: > 0 } configured)
        {
            candidates.Add(configured);
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            candidates.Add(Path.Combine(dir.FullName, "shared", "datasets"));
        }

        return candidates.Select(c => Path.Combine(c, relative)).FirstOrDefault(Directory.Exists);
    }

    private sealed class DatasetFactAttribute : FactAttribute
    {
        public DatasetFactAttribute(string relative)
        {
            if (DatasetPath(relative) is null)
            {
                Skip = $"Dataset '{relative}' not found: set SECONDBRAIN_DATASETS to the shared datasets folder (or place shared/datasets above the test binaries).";
            }
        }
    }
}
