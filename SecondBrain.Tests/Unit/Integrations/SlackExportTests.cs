using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using SecondBrain.Core.Integrations.Slack;
using SecondBrain.Core.Storage;
using SecondBrain.Core.Sync;
using SecondBrain.Tests.Unit.Storage;

namespace SecondBrain.Tests.Unit.Integrations;

/// <summary>The Slack export importer on two real exports and on hand-made edge cases.</summary>
public sealed partial class SlackExportTests
{
    private const string Houston = "slack-export-houstondatavis";
    private const string Hfaran = "slack-export-hfaran/testarchive.zip";

    // Counted here independently of the parser: notices about membership, renames, pins and integrations.
    private static readonly HashSet<string> NoticeSubtypes =
    [
        "channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name", "channel_archive",
        "bot_add", "pinned_item"
    ];

    [DatasetFact(Houston)]
    public void The_houstondatavis_export_folds_into_items_with_names_resolved()
    {
        var folder = DatasetFactAttribute.PathOf(Houston)!;
        var export = Parse(ZipFolder(folder));

        Assert.Empty(export.Failures);
        Assert.Equal(16, export.ChannelCount);
        Assert.Equal(1382, export.MessageCount);
        var (total, content) = CountMessages(Directory.GetFiles(folder, "*.json", SearchOption.AllDirectories)
            .Where(path => Path.GetDirectoryName(path) != folder)
            .Select(File.ReadAllText));
        Assert.Equal(1382, total);
        Assert.Equal(content, Represented(export.Items));
        Assert.True(export.Items.Count < total);

        Assert.Equal(export.Items.Count, export.Items.Select(item => item.ExternalId).Distinct().Count());
        Assert.All(export.Items, item =>
        {
            Assert.Equal(SlackThreads.ContentType, item.ContentType);
            Assert.DoesNotMatch(UserId(), item.Author ?? "");
            Assert.DoesNotContain("<@U", item.Text);
            Assert.DoesNotContain("has joined the channel", item.Text);
            Assert.StartsWith("#" + item.Metadata["channel"] + ": ", item.Title);
            Assert.True(item.Title.Length <= 80 + item.Metadata["channel"].Length + 4);
        });

        var hello = Assert.Single(export.Items, item => item.ExternalId.EndsWith(":1433558696.000004", StringComparison.Ordinal));
        Assert.Equal("Neeraj Tandon", hello.Author);
        Assert.Equal("Neeraj Tandon: Hello!", hello.Text);
        Assert.Equal("general", hello.Metadata["channel"]);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1433558696).AddTicks(40), hello.CreatedAt);
        Assert.Contains(export.Items, item => item.Metadata.ContainsKey("files"));

        // Deterministic: a resumed import sees the same order.
        var again = Parse(ZipFolder(folder));
        Assert.Equal(export.Items.Select(item => item.ExternalId), again.Items.Select(item => item.ExternalId));
    }

    [DatasetFact(Hfaran)]
    public void The_hfaran_zip_parses_with_bot_messages_and_file_shares()
    {
        var zip = File.ReadAllBytes(DatasetFactAttribute.PathOf(Hfaran)!);
        var export = Parse(zip);

        Assert.Empty(export.Failures);
        Assert.Equal(2, export.ChannelCount);
        Assert.Equal(158, export.MessageCount);
        using var archive = new ZipArchive(new MemoryStream(zip));
        var (total, content) = CountMessages(archive.Entries
            .Where(entry => entry.FullName.Contains('/') && entry.FullName.EndsWith(".json", StringComparison.Ordinal))
            .Select(entry => new StreamReader(entry.Open()).ReadToEnd()));
        Assert.Equal(158, total);
        Assert.Equal(content, Represented(export.Items));

        Assert.Equal(new[] { "enrique", "traveling-sailor" }, export.Items.Select(item => item.Metadata["channel"]).Distinct());
        var commit = export.Items.First(item => item.Text!.Contains("new commit", StringComparison.Ordinal));
        Assert.Equal("B0JL6RASU", commit.Author);
        Assert.Contains("simulated annealing rough draft", commit.Text);
        var share = Assert.Single(export.Items, item => item.Metadata.GetValueOrDefault("files") == "100_cities.js");
        Assert.Equal("Hermione Granger", share.Author);
        Assert.Contains("100 cities (https://", share.Text);
        Assert.Contains(export.Items, item => item.Author == "Hamza Faran");
    }

    [Fact]
    public void Bytes_that_are_not_a_zip_are_an_invalid_source()
    {
        var error = Assert.Throws<InvalidSourceException>(() => Parse(Encoding.UTF8.GetBytes("this is not a zip")));
        Assert.Contains("not a zip", error.Message);
        Assert.Throws<InvalidSourceException>(() => Parse([]));
    }

    [Fact]
    public void A_zip_without_channels_json_is_an_invalid_source()
    {
        var zip = Zip(("users.json", "[]"), ("general/2024-01-01.json", "[]"));

        var error = Assert.Throws<InvalidSourceException>(() => Parse(zip));
        Assert.Contains("channels.json", error.Message);
    }

    [Fact]
    public void Replies_join_their_parent_orphans_stand_alone_and_a_corrupt_day_is_a_failure()
    {
        var zip = Zip(
            ("export/users.json", """[{"id":"U1","name":"ada","profile":{"display_name":"Ada","real_name":""}},{"id":"U2","name":"grace","real_name":"Grace Hopper","profile":{"display_name":"gh"}}]"""),
            ("export/channels.json", """[{"id":"C1","name":"general"},{"id":"C2","name":"empty"}]"""),
            ("export/dms.json", """[{"id":"D1","members":["U1","U2"]}]"""),
            ("export/general/2024-01-01.json", """
                [
                  {"type":"message","subtype":"channel_join","user":"U1","text":"<@U1> has joined the channel","ts":"1704067200.000100"},
                  {"type":"message","user":"U1","text":"Who owns the &lt;deploy&gt; script? cc <@U2>","ts":"1704067300.000200","thread_ts":"1704067300.000200","reply_count":2},
                  {"type":"message","user":"U3","text":"A stranger","ts":"1704067400.000300"}
                ]
                """),
            ("export/general/2024-01-02.json", """
                [
                  {"type":"message","user":"U2","text":"I do, see <https://example.com/run|the runbook>","ts":"1704153600.000100","thread_ts":"1704067300.000200"},
                  {"type":"message","subtype":"thread_broadcast","user":"U1","text":"Thanks!","ts":"1704153700.000100","thread_ts":"1704067300.000200"},
                  {"type":"message","user":"U2","text":"Answer to a lost question","ts":"1704153800.000100","thread_ts":"1703000000.000100"},
                  {"type":"message","subtype":"bot_message","bot_id":"B1","bot_profile":{"name":"deploybot"},"text":"","attachments":[{"fallback":"Deployed v2"}],"ts":"1704153900.000100"}
                ]
                """),
            ("export/general/2024-01-03.json", "[{\"type\":\"message\", broken"),
            ("export/D1/2024-01-01.json", """[{"type":"message","user":"U2","text":"private hello","ts":"1704067500.000100","files":[{"name":"notes.txt"}]}]"""));

        var export = Parse(zip);

        var failure = Assert.Single(export.Failures);
        Assert.Equal("general/2024-01-03.json", failure.ExternalId);
        Assert.Equal(3, export.ChannelCount);
        Assert.Equal(8, export.MessageCount);
        Assert.Equal(
            new[] { "C1:1704067300.000200", "C1:1704067400.000300", "C1:1704153800.000100", "C1:1704153900.000100", "D1:1704067500.000100" },
            export.Items.Select(item => item.ExternalId));

        var thread = export.Items[0];
        Assert.Equal("Ada", thread.Author);
        Assert.Equal("2", thread.Metadata["replyCount"]);
        Assert.Equal("1704067300.000200", thread.Metadata["threadTs"]);
        Assert.Equal("#general: Who owns the <deploy> script? cc @Grace Hopper", thread.Title);
        Assert.Equal(
            "Ada: Who owns the <deploy> script? cc @Grace Hopper\nGrace Hopper: I do, see the runbook (https://example.com/run)\nAda: Thanks!",
            thread.Text);

        Assert.Equal("U3", export.Items[1].Author);
        Assert.Equal("Grace Hopper: Answer to a lost question", export.Items[2].Text);
        Assert.Equal("deploybot", export.Items[3].Author);
        Assert.Equal("deploybot: Deployed v2", export.Items[3].Text);
        Assert.Equal("notes.txt", export.Items[4].Metadata["files"]);
        Assert.Equal("#D1: private hello", export.Items[4].Title);
    }

    [Fact]
    public async Task The_reader_pages_by_item_index_and_resumes_from_any_cursor()
    {
        var messages = Enumerable.Range(0, 250)
            .Select(i => $$"""{"type":"message","user":"U1","text":"Message {{i}}","ts":"{{1704067200 + i}}.000100"}""");
        var zip = Zip(
            ("users.json", """[{"id":"U1","name":"ada"}]"""),
            ("channels.json", """[{"id":"C1","name":"general"}]"""),
            ("general/2024-01-01.json", "[" + string.Join(",", messages) + "]"),
            ("general/2024-01-02.json", "not json"));
        var imports = new ImportHarness();
        var upload = imports.Uploads.Add("export.zip", zip, "application/zip");
        var reader = imports.SlackReader();
        var context = ImportHarness.Run(upload);

        Assert.Equal(Sources.SlackExport, reader.Source);
        var first = await reader.ReadPageAsync(context, null, CancellationToken.None);
        Assert.Equal(100, first.Items.Count);
        Assert.NotNull(first.NextCursor);
        Assert.Equal(250, first.EstimatedTotal);
        Assert.Single(first.Failures);

        // A different reader (another worker) continues from the checkpoint.
        var second = await imports.SlackReader().ReadPageAsync(context, first.NextCursor, CancellationToken.None);
        Assert.Equal("C1:1704067300.000100", second.Items[0].ExternalId);
        Assert.Empty(second.Failures);
        var last = await reader.ReadPageAsync(context, second.NextCursor, CancellationToken.None);
        Assert.Equal(50, last.Items.Count);
        Assert.Null(last.NextCursor);
        Assert.Equal("ada: Message 249", last.Items[^1].Text);

        // The export was parsed once for the run's three pages.
        Assert.Equal(1, imports.Blobs.Opens[UploadStore.KeyOf(upload)]);

        var missing = ImportHarness.Run(Guid.NewGuid());
        await Assert.ThrowsAsync<InvalidSourceException>(() => reader.ReadPageAsync(missing, null, CancellationToken.None));
    }

    [Fact]
    public void Slack_markup_renders_as_plain_text()
    {
        string? Names(string id) => id == "U1" ? "Ada" : null;

        Assert.Equal("@Ada and @U9 and @bob", SlackText.Render("<@U1> and <@U9> and <@U8|bob>", Names));
        Assert.Equal("#general @here @devs", SlackText.Render("<#C1|general> <!here> <!subteam^S1|@devs>", Names));
        Assert.Equal("https://a.b and a@b.c", SlackText.Render("<https://a.b> and <mailto:a@b.c|a@b.c>", Names));
        Assert.Equal("1 < 2 & 3 > 2", SlackText.Render("1 &lt; 2 &amp; 3 &gt; 2", Names));
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(1234560), SlackTimestamps.ToDateTime("1704067200.123456"));
        Assert.True(SlackTimestamps.Compare("999999999.000001", "1000000000.000001") < 0);
    }

    /// <summary>All messages in the day files, and those a reader should represent (everything but notices).</summary>
    private static (int Total, int Content) CountMessages(IEnumerable<string> dayFiles)
    {
        var total = 0;
        var content = 0;
        foreach (var json in dayFiles)
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var message in document.RootElement.EnumerateArray())
            {
                total++;
                var subtype = message.TryGetProperty("subtype", out var value) ? value.GetString() : null;
                if (subtype is null || !NoticeSubtypes.Contains(subtype))
                {
                    content++;
                }
            }
        }

        return (total, content);
    }

    private static int Represented(IEnumerable<SourceItem> items) => items.Sum(item => 1 + int.Parse(item.Metadata["replyCount"]));

    private static byte[] ZipFolder(string folder)
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                archive.CreateEntryFromFile(file, Path.GetRelativePath(folder, file).Replace('\\', '/'));
            }
        }

        return buffer.ToArray();
    }

    private static byte[] Zip(params (string Path, string Content)[] files)
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, content) in files)
            {
                using var writer = new StreamWriter(archive.CreateEntry(path).Open());
                writer.Write(content);
            }
        }

        return buffer.ToArray();
    }

    [GeneratedRegex("^[UW][A-Z0-9]{8,}$")]
    private static partial Regex UserId();

    /// <summary>What the parser's records hold, materialised (the import stages them instead).</summary>
    private sealed record SlackExportContent(IReadOnlyList<SourceItem> Items, IReadOnlyList<SourceItemFailure> Failures, int ChannelCount, int MessageCount);

    private static SlackExportContent Parse(byte[] zip)
    {
        var stats = new SlackExportStats();
        var records = SlackExportParser.Read(new MemoryStream(zip), new ArchiveImportOptions(), CancellationToken.None, stats).ToList();
        return new SlackExportContent(
            records.Where(r => r.Item is not null).Select(r => r.Item!).ToList(),
            records.Where(r => r.Failure is not null).Select(r => r.Failure!).ToList(),
            stats.ChannelCount, stats.MessageCount);
    }
}

/// <summary>
/// A fact over a dataset under shared/datasets (found through SECONDBRAIN_DATASETS or by walking up from the test
/// binaries); skipped, saying where it looked, when the dataset is not there.
/// </summary>
file sealed class DatasetFactAttribute : FactAttribute
{
    private static readonly string? Root = FindRoot();

    public DatasetFactAttribute(string relativePath)
    {
        if (PathOf(relativePath) is null)
        {
            Skip = $"Dataset '{relativePath}' not found: set SECONDBRAIN_DATASETS or put shared/datasets next to the repository "
                + $"(searched {Root ?? "upwards from " + AppContext.BaseDirectory}).";
        }
    }

    public static string? PathOf(string relativePath)
    {
        if (Root is null)
        {
            return null;
        }

        var path = Path.Combine(Root, relativePath);
        return Directory.Exists(path) || File.Exists(path) ? path : null;
    }

    private static string? FindRoot()
    {
        if (Environment.GetEnvironmentVariable("SECONDBRAIN_DATASETS") is { Length: > 0 } configured && Directory.Exists(configured))
        {
            return configured;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "shared", "datasets");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
