using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using SecondBrain.Core.Integrations.Email;
using SecondBrain.Core.Storage;
using SecondBrain.Core.Sync;

namespace SecondBrain.Tests.Unit.Storage;

/// <summary>
/// Archive imports against crafted input: zip bombs (one entry, many entries), too many entries, huge mboxes, large
/// messages, Slack day files that inflate too far. Each ends as a failed item or a failed run with a reason that
/// names the limit, and nothing else is lost.
/// </summary>
public sealed class ArchiveImportTests
{
    [Fact]
    public async Task A_zip_bomb_entry_of_1_GiB_is_a_failed_item_and_the_other_mail_is_imported()
    {
        var zip = Zip(
            ("inbox/1.eml", Bytes(Text(Message(1)))),
            ("bomb.mbox", Zeros(1024L * 1024 * 1024)),
            ("inbox/2.eml", Bytes(Text(Message(2)))));
        Assert.True(zip.Length < 4 * 1024 * 1024, $"the bomb should be small compressed, it is {zip.Length} bytes");

        var clock = Stopwatch.StartNew();
        var (items, failures, _) = await ImportAsync("bomb.zip", zip);

        // Refused once it had inflated a little past the ratio floor, not after inflating a gigabyte.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.Equal(["inbox/1.eml", "inbox/2.eml"], items.Select(i => i.ExternalId));
        var bomb = Assert.Single(failures);
        Assert.Equal("bomb.mbox", bomb.ExternalId);
        Assert.Contains("zip bomb", bomb.Reason);
        Assert.Contains("MaxCompressionRatio", bomb.Reason);
    }

    [Fact]
    public async Task An_archive_inflating_beyond_its_total_fails_the_run_with_the_reason_and_stages_nothing()
    {
        // Every entry compresses modestly (no ratio alarm), but together they exceed the archive's total.
        var random = new Random(3);
        var zip = Zip(Enumerable.Range(0, 6).Select(i => ($"mail-{i}.mbox", Text(string.Concat(Enumerable.Range(0, 4000).Select(n =>
            $"From a@b.c Mon Jan  1 00:00:00 2024\nSubject: m{n} {random.Next()}\n\n{random.Next()} {random.Next()} {random.Next()}\n"))))).ToArray());
        var imports = new ImportHarness(new ArchiveImportOptions { MaxInflatedBytes = 1024 * 1024 });
        var upload = imports.Uploads.Add("many.zip", zip);

        var error = await Assert.ThrowsAsync<InvalidSourceException>(() =>
            imports.EmailReader().ReadPageAsync(ImportHarness.Run(upload), null, CancellationToken.None));

        Assert.Contains("Sync:Archives:MaxInflatedBytes", error.Message);
        Assert.DoesNotContain(imports.Blobs.Keys, k => k.StartsWith(StagedImport.KeyPrefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_zip_listing_more_entries_than_allowed_is_refused_before_anything_is_inflated()
    {
        var zip = Zip(Enumerable.Range(0, 11).Select(i => ($"inbox/{i}.eml", Text(Message(i)))).ToArray());
        var imports = new ImportHarness(new ArchiveImportOptions { MaxEntries = 10 });
        var upload = imports.Uploads.Add("wide.zip", zip);

        var error = await Assert.ThrowsAsync<InvalidSourceException>(() =>
            imports.EmailReader().ReadPageAsync(ImportHarness.Run(upload), null, CancellationToken.None));
        Assert.Contains("11 entries", error.Message);
        Assert.Contains("Sync:Archives:MaxEntries", error.Message);
    }

    [Fact]
    public async Task A_slack_day_file_bomb_is_a_failed_item_and_the_rest_of_the_export_imports()
    {
        var day = Text("""[{"type":"message","user":"U1","text":"hello","ts":"1704067200.000100"}]""");
        var bomb = new byte[40 * 1024 * 1024];
        Array.Fill(bomb, (byte)' ');
        bomb[0] = (byte)'[';
        bomb[^1] = (byte)']';
        var zip = Zip(
            ("users.json", Text("""[{"id":"U1","name":"ada"}]""")),
            ("channels.json", Text("""[{"id":"C1","name":"general"}]""")),
            ("general/2024-01-01.json", day),
            ("general/2024-01-02.json", bomb));
        var imports = new ImportHarness();
        var upload = imports.Uploads.Add("export.zip", zip);

        var (items, failures, _) = await ImportHarness.ReadAllAsync(imports.SlackReader(), ImportHarness.Run(upload));

        Assert.Equal("ada: hello", Assert.Single(items).Text);
        var failure = Assert.Single(failures);
        Assert.Equal("general/2024-01-02.json", failure.ExternalId);
        Assert.Contains("zip bomb", failure.Reason);
    }

    [Fact]
    public async Task A_slack_export_inflating_beyond_the_total_fails_the_run()
    {
        var random = new Random(5);
        var days = Enumerable.Range(1, 9).Select(d => ($"general/2024-01-0{d}.json", Text("[" + string.Join(",", Enumerable.Range(0, 3000).Select(n =>
            $$"""{"type":"message","user":"U1","text":"{{random.Next()}} {{random.Next()}}","ts":"{{1704067200 + d * 10000 + n}}.000100"}""")) + "]")));
        var zip = Zip([("channels.json", Text("""[{"id":"C1","name":"general"}]""")), .. days]);
        var imports = new ImportHarness(new ArchiveImportOptions { MaxInflatedBytes = 1024 * 1024 });
        var upload = imports.Uploads.Add("export.zip", zip);

        var error = await Assert.ThrowsAsync<InvalidSourceException>(() =>
            imports.SlackReader().ReadPageAsync(ImportHarness.Run(upload), null, CancellationToken.None));
        Assert.Contains("MaxInflatedBytes", error.Message);
    }

    [Fact]
    public async Task A_large_mbox_streams_in_pages_bounded_by_bytes_and_is_read_once()
    {
        // 40 messages of about 1 MB: with a 2 MB page budget no page carries more than three of them.
        var body = new string('x', 76) + "\n";
        var message = string.Concat(Enumerable.Repeat(body, 13_000));
        var mbox = Text(string.Concat(Enumerable.Range(0, 40).Select(i => $"From a@b.c Mon Jan  1 00:00:00 2024\nSubject: big {i}\n\n{message}\n")));
        var imports = new ImportHarness(new ArchiveImportOptions { MaxPageBytes = 2 * 1024 * 1024 });
        var upload = imports.Uploads.Add("big.mbox", mbox);

        var (items, failures, pages) = await ImportHarness.ReadAllAsync(imports.EmailReader(), ImportHarness.Run(upload));

        Assert.Empty(failures);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"big {i}"), items.Select(i => i.Title));
        Assert.All(pages, p => Assert.InRange(p.Items.Count, 1, 3));
        Assert.Equal(1, imports.Blobs.Opens[UploadStore.KeyOf(upload)]);
    }

    [Fact]
    public void The_mbox_splitter_reads_a_non_seekable_stream_once_whatever_its_read_sizes()
    {
        var mbox = Text(string.Concat(Enumerable.Range(0, 500).Select(i =>
            $"From a@b.c Mon Jan  1 00:00:00 2024\r\nSubject: s{i}\r\n\r\nBody line.\r\n>From here too\r\n\r\n")));
        var whole = MboxSplitter.Split(new MemoryStream(mbox), 1024, CancellationToken.None).ToList();
        var trickled = MboxSplitter.Split(new TrickleStream(mbox), 1024, CancellationToken.None).ToList();

        Assert.Equal(500, whole.Count);
        Assert.Equal(whole.Select(m => Encoding.ASCII.GetString(m.Raw!)), trickled.Select(m => Encoding.ASCII.GetString(m.Raw!)));
        Assert.StartsWith("Subject: s7\r\n", Encoding.ASCII.GetString(whole[7].Raw!));
        Assert.EndsWith(">From here too\r\n", Encoding.ASCII.GetString(whole[7].Raw!));
    }

    [Fact]
    public void An_oversized_message_in_an_mbox_is_skipped_with_a_reason_and_the_next_ones_are_kept()
    {
        var big = new string('y', 5000);
        var mbox = Text($"From a\nSubject: one\n\nok\n\nFrom b\nSubject: two\n\n{big}\n\nFrom c\nSubject: three\n\nok\n");

        var messages = MboxSplitter.Split(new TrickleStream(mbox), 1024, CancellationToken.None).ToList();

        Assert.Equal(3, messages.Count);
        Assert.NotNull(messages[0].Raw);
        Assert.Null(messages[1].Raw);
        Assert.Contains("larger than", messages[1].Error);
        Assert.Equal("Subject: three\n\nok", Encoding.ASCII.GetString(messages[2].Raw!));
    }

    [Fact]
    public async Task Staged_archives_of_runs_that_ended_are_removed_when_the_next_import_stages()
    {
        var active = Guid.NewGuid();
        var ended = Guid.NewGuid();
        var imports = new ImportHarness(runs: new FakeImportRuns(active));
        var upload = imports.Uploads.Add("team.mbox", Text(string.Concat(Enumerable.Range(0, 3).Select(i => $"From a\nSubject: {i}\n\nbody\n"))));
        await imports.EmailReader().ReadPageAsync(ImportHarness.Run(upload, active), null, CancellationToken.None);
        await imports.EmailReader().ReadPageAsync(ImportHarness.Run(upload, ended), null, CancellationToken.None);
        Assert.Contains(StagedImport.KeyOf(ended), imports.Blobs.Keys);

        var next = Guid.NewGuid();
        await imports.EmailReader().ReadPageAsync(ImportHarness.Run(upload, next), null, CancellationToken.None);

        Assert.Contains(StagedImport.KeyOf(active), imports.Blobs.Keys);
        Assert.Contains(StagedImport.KeyOf(next), imports.Blobs.Keys);
        Assert.DoesNotContain(StagedImport.KeyOf(ended), imports.Blobs.Keys);
    }

    [Fact]
    public async Task A_resumed_run_whose_staged_archive_is_gone_stages_it_again_and_continues_at_its_cursor()
    {
        var imports = new ImportHarness(new ArchiveImportOptions { PageSize = 2 });
        var upload = imports.Uploads.Add("team.mbox", Text(string.Concat(Enumerable.Range(0, 5).Select(i => $"From a\nSubject: m{i}\n\nbody\n"))));
        var run = ImportHarness.Run(upload);
        var first = await imports.EmailReader().ReadPageAsync(run, null, CancellationToken.None);
        await imports.Blobs.DeleteAsync(StagedImport.KeyOf(run.RunId), CancellationToken.None);

        var rest = await ImportHarness.ReadAllAsync(imports.EmailReader(), run, first.NextCursor);

        Assert.Equal(["m2", "m3", "m4"], rest.Items.Select(i => i.Title));
        Assert.Equal(2, imports.Blobs.Opens[UploadStore.KeyOf(upload)]);
    }

    private static async Task<(List<SourceItem> Items, List<SourceItemFailure> Failures, List<SourcePage> Pages)> ImportAsync(string fileName, byte[] content)
    {
        var imports = new ImportHarness();
        var upload = imports.Uploads.Add(fileName, content);
        return await ImportHarness.ReadAllAsync(imports.EmailReader(), ImportHarness.Run(upload));
    }

    private static string Message(int n) =>
        $"From: Alice <alice@example.com>\nSubject: Message {n}\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nBody {n}.\n";

    private static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    private static Func<Stream, Task> Zeros(long bytes) => async target =>
    {
        var block = new byte[1024 * 1024];
        for (long written = 0; written < bytes; written += block.Length)
        {
            await target.WriteAsync(block.AsMemory(0, (int)Math.Min(block.Length, bytes - written)));
        }
    };

    private static Func<Stream, Task> Bytes(byte[] content) => target => target.WriteAsync(content).AsTask();

    private static byte[] Zip(params (string Path, byte[] Content)[] entries) =>
        Streamed(entries.Select(e => (e.Path, Bytes(e.Content))).ToArray());

    private static byte[] Zip(params (string Path, Func<Stream, Task> Write)[] entries) => Streamed(entries);

    private static byte[] Streamed((string Path, Func<Stream, Task> Write)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, write) in entries)
            {
                using var stream = zip.CreateEntry(path, CompressionLevel.Optimal).Open();
                write(stream).GetAwaiter().GetResult();
            }
        }

        return buffer.ToArray();
    }

    /// <summary>A forward-only stream that returns a few bytes per read, as a slow network or an inflater might.</summary>
    private sealed class TrickleStream(byte[] content) : Stream
    {
        private int _position;
        private int _turn;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var take = Math.Min(Math.Min(count, 1 + _turn++ % 7), content.Length - _position);
            Array.Copy(content, _position, buffer, offset, take);
            _position += take;
            return take;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
