using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using SecondBrain.Core.Common;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Integrations;
using SecondBrain.Core.Sync;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

[Collection(SecondBrainAppCollection.Name)]
public sealed class SyncRunsTests(SecondBrainAppFixture app)
{
    [Fact]
    public async Task A_gmail_sync_runs_once_per_tenant_progresses_monotonically_on_every_replica_and_stores_each_message_once()
    {
        if (app.Gmail.MessageCount < 300)
        {
            app.Gmail.AddMessages(300 - app.Gmail.MessageCount);
        }

        var expected = app.Gmail.MessageCount;
        var tenant = await app.ConnectedTenantAsync("gmail");
        app.Gmail.ResponseDelay = TimeSpan.FromMilliseconds(10);
        try
        {
            var run = await app.StartSyncAsync(tenant.Tokens.AccessToken, "gmail", on: 0);
            Assert.Equal(SyncRunStatuses.Queued, run.Status);

            using (var second = app.Api(1).CreateClient(tenant.Tokens.AccessToken))
            {
                var conflict = await (await second.PostAsync("api/sync/gmail", null)).AssertProblemAsync(HttpStatusCode.Conflict, ProblemCodes.SyncAlreadyRunning);
                Assert.Equal(run.Id, conflict.GetProperty("activeRunId").GetGuid());
            }

            var (final, observed) = await app.WaitForRunAsync(tenant.Tokens.AccessToken, run.Id);
            AssertSucceeded(final);
            Assert.Equal(expected, final.Processed);
            Assert.Equal(0, final.Failed);
            Assert.Equal(100, final.Percent);
            for (var i = 1; i < observed.Count; i++)
            {
                Assert.True(observed[i].Processed >= observed[i - 1].Processed,
                    $"progress went backwards: {observed[i - 1].Processed} then {observed[i].Processed}");
            }

            Assert.Contains(observed, o => o.Status == SyncRunStatuses.Running && o.Processed > 0 && o.Processed < expected);
        }
        finally
        {
            app.Gmail.ResponseDelay = TimeSpan.Zero;
        }

        Assert.Equal(expected, await CountAsync("SELECT count(*) FROM documents WHERE tenant_id = @t AND source = 'gmail'", tenant.Tenant.Id));
        Assert.Equal(expected, await CountAsync("SELECT count(DISTINCT external_id) FROM documents WHERE tenant_id = @t AND source = 'gmail'", tenant.Tenant.Id));
        Assert.Equal(expected, await CountAsync("SELECT count(*) FROM ingestion_jobs WHERE tenant_id = @t", tenant.Tenant.Id));

        // The next run is incremental from the saved historyId: nothing new, nothing duplicated.
        var again = await app.StartSyncAsync(tenant.Tokens.AccessToken, "gmail", on: 2);
        var (second2, _) = await app.WaitForRunAsync(tenant.Tokens.AccessToken, again.Id);
        AssertSucceeded(second2);
        Assert.Equal(0, second2.Processed);
        Assert.Equal(expected, await CountAsync("SELECT count(*) FROM documents WHERE tenant_id = @t", tenant.Tenant.Id));
    }

    [Fact]
    public async Task Server_sent_events_on_one_replica_carry_the_worker_progress_to_the_end()
    {
        var tenant = await app.ConnectedTenantAsync("slack");
        if (app.Slack.ChannelCount < 3)
        {
            app.Slack.AddChannel("sse-general", 120, 10);
            app.Slack.AddChannel("sse-random", 80, 5);
            app.Slack.AddChannel("sse-eng", 60, 0);
        }

        app.Slack.ResponseDelay = TimeSpan.FromMilliseconds(40);
        try
        {
            var run = await app.StartSyncAsync(tenant.Tokens.AccessToken, "slack", on: 0);
            using var client = app.Api(2).CreateClient(tenant.Tokens.AccessToken);
            using var request = new HttpRequestMessage(HttpMethod.Get, $"api/sync/runs/{run.Id}/events");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await response.EnsureStatusAsync(HttpStatusCode.OK);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

            var events = new List<SyncRunResponse>();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (await reader.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    events.Add(JsonSerializer.Deserialize<SyncRunResponse>(line[6..], ApiClient.Json)!);
                }
            }

            Assert.True(events.Count >= 3, $"expected a stream of progress events, got {events.Count}");
            Assert.Equal(SyncRunStatuses.Succeeded, events[^1].Status);
            Assert.Contains(events, e => e.Status == SyncRunStatuses.Running && e.Processed > 0);
            for (var i = 1; i < events.Count; i++)
            {
                Assert.True(events[i].Processed >= events[i - 1].Processed, "SSE progress never goes backwards");
            }
        }
        finally
        {
            app.Slack.ResponseDelay = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task Cancel_on_another_replica_is_observed_within_two_seconds()
    {
        var tenant = await app.ConnectedTenantAsync("box");
        var folder = app.Box.AddFolder("0", "cancel-" + Guid.NewGuid().ToString("N")[..6]);
        for (var i = 0; i < 400; i++)
        {
            app.Box.AddFile(folder, $"note-{i}.txt", Encoding.UTF8.GetBytes($"note {i}"));
        }

        app.Box.ResponseDelay = TimeSpan.FromMilliseconds(20);
        try
        {
            var run = await app.StartSyncAsync(tenant.Tokens.AccessToken, "box", on: 0);
            SyncRunResponse current;
            do
            {
                await Task.Delay(100);
                current = await app.GetRunAsync(tenant.Tokens.AccessToken, run.Id, 1);
            }
            while (current.Processed == 0 && !SyncRunStatuses.IsFinal(current.Status));

            Assert.Equal(SyncRunStatuses.Running, current.Status);
            using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await (await client.PostAsync($"api/sync/runs/{run.Id}/cancel", null)).EnsureStatusAsync(HttpStatusCode.Accepted);
            var (final, _) = await app.WaitForRunAsync(tenant.Tokens.AccessToken, run.Id, TimeSpan.FromSeconds(10));
            Assert.Equal(SyncRunStatuses.Cancelled, final.Status);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"cancel took {clock.Elapsed.TotalSeconds:F1}s");
            Assert.True(final.Processed < 400, "the run stopped before the end");

            // A finished run cannot be cancelled again; a new run may start.
            await (await client.PostAsync($"api/sync/runs/{run.Id}/cancel", null)).AssertProblemAsync(HttpStatusCode.Conflict, ProblemCodes.RunAlreadyFinished);
        }
        finally
        {
            app.Box.ResponseDelay = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task A_storm_of_429s_is_ridden_out()
    {
        var tenant = await app.ConnectedTenantAsync("box");
        var folder = app.Box.AddFolder("0", "storm-" + Guid.NewGuid().ToString("N")[..6]);
        for (var i = 0; i < 30; i++)
        {
            app.Box.AddFile(folder, $"doc-{i}.md", Encoding.UTF8.GetBytes($"# Doc {i}\nbody"));
        }

        var run = await app.StartSyncAsync(tenant.Tokens.AccessToken, "box", on: 1);
        app.Box.FailNextRequests(15, 429, 1);
        var (final, _) = await app.WaitForRunAsync(tenant.Tokens.AccessToken, run.Id, TimeSpan.FromMinutes(3));
        AssertSucceeded(final);
        Assert.Equal(final.Processed, await CountAsync("SELECT count(*) FROM documents WHERE tenant_id = @t AND source = 'box'", tenant.Tenant.Id));
        Assert.True(final.Processed >= 30);
    }

    [Fact]
    public async Task Another_tenant_cannot_see_or_cancel_a_run()
    {
        var owner = await app.ConnectedTenantAsync("gmail");
        var run = await app.StartSyncAsync(owner.Tokens.AccessToken, "gmail", on: 0);
        var stranger = await app.Api(1).SignupAsync();
        using var client = app.Api(2).CreateClient(stranger.Tokens.AccessToken);
        await (await client.GetAsync($"api/sync/runs/{run.Id}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await client.GetAsync($"api/sync/runs/{run.Id}/events")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await client.GetAsync($"api/sync/runs/{run.Id}/failures")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await client.PostAsync($"api/sync/runs/{run.Id}/cancel", null)).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        var list = (await client.GetFromJsonAsync<PagedResult<SyncRunResponse>>("api/sync/runs", ApiClient.Json))!;
        Assert.Equal(0, list.Total);
        await app.WaitForRunAsync(owner.Tokens.AccessToken, run.Id);
    }

    [Fact]
    public async Task Bad_sync_requests_get_clear_errors()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        await (await client.PostAsync("api/sync/dropbox", null)).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.UnknownProvider);
        await (await client.PostAsync("api/sync/gmail", null)).AssertProblemAsync(HttpStatusCode.Conflict, ProblemCodes.NotConnected);
        await (await client.PostAsync("api/sync/email-archive", null)).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.UploadRequired);

        // Not an archive at all: the run fails with a reason, nothing else is lost.
        var run = await UploadAsync(tenant.Tokens.AccessToken, "email-archive", "noise.bin", RandomBytes(4096));
        var (final, _) = await app.WaitForRunAsync(tenant.Tokens.AccessToken, run.Id);
        Assert.Equal(SyncRunStatuses.Failed, final.Status);
        Assert.Equal("invalid_source", final.ErrorCode);
        Assert.False(string.IsNullOrWhiteSpace(final.ErrorDetail));
    }

    [Fact]
    public async Task Disconnect_stops_a_running_sync_and_shows_disconnected()
    {
        var tenant = await app.ConnectedTenantAsync("slack");
        if (app.Slack.ChannelCount < 3)
        {
            app.Slack.AddChannel("dc-general", 120, 10);
        }

        app.Slack.ResponseDelay = TimeSpan.FromMilliseconds(40);
        try
        {
            var run = await app.StartSyncAsync(tenant.Tokens.AccessToken, "slack", on: 0);
            await Task.Delay(300);
            using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
            await (await client.DeleteAsync("api/integrations/slack")).EnsureStatusAsync(HttpStatusCode.NoContent);
            var (final, _) = await app.WaitForRunAsync(tenant.Tokens.AccessToken, run.Id, TimeSpan.FromSeconds(15));
            Assert.Contains(final.Status, new[] { SyncRunStatuses.Cancelled, SyncRunStatuses.Succeeded });
            var statuses = (await client.GetFromJsonAsync<IntegrationStatus[]>("api/integrations", ApiClient.Json))!;
            Assert.Equal(ConnectionStatuses.Disconnected, statuses.Single(s => s.Provider == "slack").Status);
            await (await client.PostAsync("api/sync/slack", null)).AssertProblemAsync(HttpStatusCode.Conflict, ProblemCodes.NotConnected);
            await (await client.DeleteAsync("api/integrations/slack")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotConnected);
        }
        finally
        {
            app.Slack.ResponseDelay = TimeSpan.Zero;
        }
    }

    [DatasetFact]
    public async Task The_enron_maildir_sample_imports_as_300_documents()
    {
        var tenant = await app.Api(0).SignupAsync();
        var zip = Datasets.ZipFolder(Datasets.Path("enron-maildir-sample"));
        var run = await UploadAsync(tenant.Tokens.AccessToken, "email-archive", "enron.zip", zip);
        var (final, _) = await app.WaitForRunAsync(tenant.Tokens.AccessToken, run.Id);
        AssertSucceeded(final);
        Assert.Equal(300, final.Processed);
        Assert.Equal(300, await CountAsync("SELECT count(*) FROM documents WHERE tenant_id = @t AND source = 'email-archive'", tenant.Tenant.Id));

        // Importing the same archive again updates in place: no duplicates.
        var again = await UploadAsync(tenant.Tokens.AccessToken, "email-archive", "enron.zip", zip);
        Assert.Equal(SyncRunStatuses.Succeeded, (await app.WaitForRunAsync(tenant.Tokens.AccessToken, again.Id)).Final.Status);
        Assert.Equal(300, await CountAsync("SELECT count(*) FROM documents WHERE tenant_id = @t", tenant.Tenant.Id));
    }

    [DatasetFact]
    public async Task The_email_fixtures_import_with_broken_messages_as_failed_items_not_a_failed_run()
    {
        var tenant = await app.Api(0).SignupAsync();
        var folder = Datasets.Path("email-fixtures-mikel-mail/spec/fixtures/emails");
        // Every message file ends as a document or a failed item; repository metadata (.gitattributes) and a
        // non-mail sample output in the folder are not messages and are skipped by the importer.
        var fileCount = Directory.EnumerateFiles(folder, "*.eml", SearchOption.AllDirectories).Count();
        var run = await UploadAsync(tenant.Tokens.AccessToken, "email-archive", "fixtures.zip", Datasets.ZipFolder(folder));
        var (final, _) = await app.WaitForRunAsync(tenant.Tokens.AccessToken, run.Id);
        AssertSucceeded(final);
        Assert.Equal(fileCount, final.Processed + final.Failed);

        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        var failures = (await client.GetFromJsonAsync<PagedResult<SyncFailedItemResponse>>($"api/sync/runs/{run.Id}/failures?pageSize=200", ApiClient.Json))!;
        Assert.Equal(final.Failed, failures.Total);
        Assert.All(failures.Items, f => Assert.False(string.IsNullOrWhiteSpace(f.Reason)));
    }

    [DatasetFact]
    public async Task Both_slack_exports_import()
    {
        var tenant = await app.Api(0).SignupAsync();
        var houston = await UploadAsync(tenant.Tokens.AccessToken, "slack-export", "houston.zip",
            Datasets.ZipFolder(Datasets.Path("slack-export-houstondatavis")));
        var (first, _) = await app.WaitForRunAsync(tenant.Tokens.AccessToken, houston.Id);
        AssertSucceeded(first);
        Assert.True(first.Processed > 100, $"houstondatavis gave {first.Processed} threads");

        var hfaran = await UploadAsync(tenant.Tokens.AccessToken, "slack-export", "testarchive.zip",
            await File.ReadAllBytesAsync(Datasets.Path("slack-export-hfaran/testarchive.zip")));
        var (second, _) = await app.WaitForRunAsync(tenant.Tokens.AccessToken, hfaran.Id);
        AssertSucceeded(second);
        Assert.True(second.Processed > 10);
        Assert.Equal(first.Processed + second.Processed,
            await CountAsync("SELECT count(*) FROM documents WHERE tenant_id = @t AND source = 'slack-export'", tenant.Tenant.Id));
    }

    private static void AssertSucceeded(SyncRunResponse run) =>
        Assert.True(run.Status == SyncRunStatuses.Succeeded, $"run {run.Id} ended {run.Status}: {run.ErrorCode} {run.ErrorDetail}");

    private async Task<SyncRunResponse> UploadAsync(string accessToken, string source, string fileName, byte[] content)
    {
        using var client = app.Api(Random.Shared.Next(3)).CreateClient(accessToken);
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        var response = await client.PostAsync($"api/sync/{source}", form);
        await response.EnsureStatusAsync(HttpStatusCode.Accepted);
        return (await response.Content.ReadFromJsonAsync<SyncRunResponse>(ApiClient.Json))!;
    }

    private async Task<long> CountAsync(string sql, Guid tenantId)
    {
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("t", tenantId);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static byte[] RandomBytes(int n)
    {
        var bytes = new byte[n];
        Random.Shared.NextBytes(bytes);
        bytes[0] = 0x01;
        return bytes;
    }
}
