using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using SecondBrain.Core.Identity;
using SecondBrain.Core.Search;
using SecondBrain.Core.Sync;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// Redis killed and restarted, Postgres stopped and started, under load. While a dependency is down every request
/// answers 503 with a stable code or succeeds, never 500; afterwards everything works without restarting a service,
/// and every item of the sync and the uploads ends where it would have without the fault.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class InfrastructureFaultTests(FaultFixture app)
{
    private const string Password = "correct-horse-battery";

    [Fact]
    public async Task Redis_killed_during_a_sync_and_ingestion_costs_no_item_and_no_500()
    {
        const int messages = 600;
        app.Gmail.AddMessages(messages);
        var tenant = await app.ConnectedTenantAsync("gmail");
        var email = (await WhoAmIAsync(tenant.Tokens.AccessToken)).User.Email;
        app.Gmail.ResponseDelay = TimeSpan.FromMilliseconds(15);
        var statuses = new ConcurrentBag<(string What, HttpStatusCode Status, string Body)>();
        try
        {
            var run = await app.StartSyncAsync(tenant.Tokens.AccessToken, "gmail", on: 0);
            using var sse = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            var events = ReadEventsAsync(app.Api(1), tenant.Tokens.AccessToken, run.Id, sse.Token);
            await WaitUntilAsync(async () => (await app.GetRunAsync(tenant.Tokens.AccessToken, run.Id)).Processed >= 100, TimeSpan.FromMinutes(2));

            await app.Stack.KillResourceAsync("redis");
            var during = ProbeAsync(tenant.Tokens.AccessToken, email, statuses, TimeSpan.FromSeconds(8));
            await during;
            await app.Stack.StartResourceAsync("redis");

            var (final, _) = await app.WaitForRunAsync(tenant.Tokens.AccessToken, run.Id, TimeSpan.FromMinutes(4));
            Assert.Equal(SyncRunStatuses.Succeeded, final.Status);
            Assert.Equal(messages, final.Processed);
            Assert.Equal(messages, await app.ScalarAsync("SELECT count(DISTINCT external_id) FROM documents WHERE tenant_id = @t", ("t", tenant.Tenant.Id)));
            await app.WaitForIngestionAsync(tenant.Tenant.Id, TimeSpan.FromMinutes(8));
            Assert.Equal(0, await app.ScalarAsync("SELECT count(*) FROM documents WHERE tenant_id = @t AND status <> 'ingested'", ("t", tenant.Tenant.Id)));

            // The stream opened before the outage ends with the final state after it.
            var received = await events;
            Assert.Equal(SyncRunStatuses.Succeeded, received[^1].Status);

            // After: login, search and progress work again without restarting anything.
            using var anonymous = app.Api(2).CreateClient();
            var login = await anonymous.PostAsJsonAsync("api/auth/login", new LoginRequest(email, Password));
            await login.EnsureStatusAsync(HttpStatusCode.OK);
            var search = await app.SearchAsync(tenant.Tokens.AccessToken, "message", "hybrid", on: 1);
            Assert.NotEmpty(search.Hits);
        }
        finally
        {
            app.Gmail.ResponseDelay = TimeSpan.Zero;
        }

        AssertNever500(statuses);
        Assert.Contains(statuses, s => s.Status == HttpStatusCode.ServiceUnavailable || s.Status == HttpStatusCode.OK);
    }

    [Fact]
    public async Task Postgres_stopped_for_twenty_seconds_under_load_answers_503_and_recovers_with_nothing_lost()
    {
        var corpus = FaultFixture.Corpus(100, "pgstop");
        var tenant = await app.Api(0).SignupAsync();
        var email = (await WhoAmIAsync(tenant.Tokens.AccessToken)).User.Email;
        var ids = await app.UploadAsync(tenant.Tokens.AccessToken, corpus);
        await WaitUntilAsync(async () => await app.ScalarAsync("SELECT count(*) FROM documents WHERE tenant_id = @t AND status = 'ingested'", ("t", tenant.Tenant.Id)) >= 5,
            TimeSpan.FromMinutes(2));

        var statuses = new ConcurrentBag<(string What, HttpStatusCode Status, string Body)>();
        var postgres = app.Stack.ProcessIdOf("postgres") ?? throw new InvalidOperationException("postgres has no process");
        SecondBrainStack.Interrupt(postgres); // fast shutdown: clients are disconnected, the server stops
        await app.App.ResourceNotifications.WaitForResourceAsync("postgres", s => s.Snapshot.State?.Text is "Exited" or "Finished" or "Stopped",
            new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        await ProbeAsync(tenant.Tokens.AccessToken, email, statuses, TimeSpan.FromSeconds(20));
        await app.Stack.StartResourceAsync("postgres");

        await app.WaitForIngestionAsync(tenant.Tenant.Id, TimeSpan.FromMinutes(6));
        Assert.Equal(ids.Count, await app.ScalarAsync("SELECT count(*) FROM documents WHERE tenant_id = @t AND status = 'ingested'", ("t", tenant.Tenant.Id)));
        Assert.Equal(0, await app.ScalarAsync(
            "SELECT count(*) FROM (SELECT document_id, position FROM chunks WHERE tenant_id = @t GROUP BY document_id, position HAVING count(*) > 1) d", ("t", tenant.Tenant.Id)));

        // Recovered without a restart: every Api replica answers again.
        for (var i = 0; i < SecondBrainAppFixture.ApiReplicaCount; i++)
        {
            using var client = app.Api(i).CreateClient(tenant.Tokens.AccessToken);
            var list = await client.GetAsync("api/documents?pageSize=5");
            await list.EnsureStatusAsync(HttpStatusCode.OK);
        }

        AssertNever500(statuses);
        Assert.Contains(statuses, s => s.Status == HttpStatusCode.ServiceUnavailable);
        Assert.All(statuses.Where(s => s.Status == HttpStatusCode.ServiceUnavailable), s => Assert.Contains("dependency_unavailable", s.Body));
    }

    /// <summary>Login, search, document list and sync progress, round-robin over the replicas, for the whole outage.</summary>
    private async Task ProbeAsync(string accessToken, string email, ConcurrentBag<(string, HttpStatusCode, string)> statuses, TimeSpan duration)
    {
        var until = DateTimeOffset.UtcNow + duration;
        for (var i = 0; DateTimeOffset.UtcNow < until; i++)
        {
            using var anonymous = app.Api(i).CreateClient();
            using var client = app.Api(i).CreateClient(accessToken);
            client.Timeout = anonymous.Timeout = TimeSpan.FromSeconds(30);
            await RecordAsync(statuses, "login", () => anonymous.PostAsJsonAsync("api/auth/login", new LoginRequest(email, Password)));
            await RecordAsync(statuses, "search", () => client.PostAsJsonAsync("api/search", new SearchRequest("release train canary", "hybrid")));
            await RecordAsync(statuses, "documents", () => client.GetAsync("api/documents?pageSize=5"));
            await RecordAsync(statuses, "runs", () => client.GetAsync("api/sync/runs"));
            await Task.Delay(250);
        }
    }

    private static async Task RecordAsync(ConcurrentBag<(string, HttpStatusCode, string)> statuses, string what, Func<Task<HttpResponseMessage>> call)
    {
        using var response = await call();
        statuses.Add((what, response.StatusCode, await response.Content.ReadAsStringAsync()));
    }

    private static void AssertNever500(IEnumerable<(string What, HttpStatusCode Status, string Body)> statuses)
    {
        var bad = statuses.Where(s => (int)s.Status >= 500 && s.Status != HttpStatusCode.ServiceUnavailable).ToList();
        Assert.True(bad.Count == 0, $"{bad.Count} responses were server errors other than 503, e.g. {string.Join("; ", bad.Take(3).Select(b => $"{b.What} {(int)b.Status} {b.Body}"))}");
        Assert.All(statuses.Where(s => s.Status == HttpStatusCode.ServiceUnavailable), s => Assert.Contains("dependency_unavailable", s.Body));
    }

    private async Task<MeResponse> WhoAmIAsync(string accessToken)
    {
        using var client = app.Api(0).CreateClient(accessToken);
        return (await client.GetFromJsonAsync<MeResponse>("api/auth/me", ApiClient.Json))!;
    }

    /// <summary>Reads the run's SSE stream until it ends; reconnects (as EventSource would) if the server ends it early.</summary>
    private static async Task<List<SyncRunResponse>> ReadEventsAsync(Replica replica, string accessToken, Guid runId, CancellationToken ct)
    {
        var received = new List<SyncRunResponse>();
        using var client = replica.CreateClient(accessToken);
        client.Timeout = Timeout.InfiniteTimeSpan;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"api/sync/runs/{runId}/events");
                request.Headers.Accept.ParseAdd("text/event-stream");
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
                await using var stream = await response.Content.ReadAsStreamAsync(ct);
                using var reader = new StreamReader(stream);
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    if (line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        var run = System.Text.Json.JsonSerializer.Deserialize<SyncRunResponse>(line[6..], ApiClient.Json)!;
                        received.Add(run);
                        if (SyncRunStatuses.IsFinal(run.Status))
                        {
                            return received;
                        }
                    }
                }
            }
            catch (HttpRequestException)
            {
                // The connection dropped; reconnect.
            }
            catch (IOException)
            {
            }

            await Task.Delay(1000, ct);
        }

        return received;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "timed out waiting");
            await Task.Delay(100);
        }
    }
}
