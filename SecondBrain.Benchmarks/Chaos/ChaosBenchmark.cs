using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using SecondBrain.Benchmarks.Reporting;
using SecondBrain.Core.Identity;
using SecondBrain.Core.Integrations;
using SecondBrain.Core.Search;
using SecondBrain.Core.Sync;
using SecondBrain.TestSupport.StandIns;

namespace SecondBrain.Benchmarks.Chaos;

/// <summary>
/// Chaos: while a Gmail sync and waves of uploads are ingested by two Workers behind two Api replicas, random faults
/// at random moments: a Worker killed (and started again), a Worker paused past its lease (and resumed), Redis
/// killed and restarted, Postgres stopped for a few seconds. A probe keeps calling login, search, the document list
/// and the run's progress. At the end every expected document is checked: ingested once, of its current version.
/// Reports documents expected / ingested / duplicated / lost, responses by status code, and the time to recover after
/// each fault (until every probe call succeeds again). Target: 0 lost, 0 duplicated, 0 responses with status 500.
/// </summary>
public static class ChaosBenchmark
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private const string Password = "chaos-password-1";

    private static readonly List<string> Bag = [];

    private sealed record Fault(string Kind, string Target, TimeSpan At, TimeSpan Duration, TimeSpan? Recovery);

    public static async Task<BenchmarkReport> RunAsync(BenchmarkArguments arguments)
    {
        var minutes = double.Parse(arguments.Options.GetValueOrDefault("minutes", "5"), CultureInfo.InvariantCulture);
        var messages = int.Parse(arguments.Options.GetValueOrDefault("messages", "1500"), CultureInfo.InvariantCulture);
        var wave = int.Parse(arguments.Options.GetValueOrDefault("wave", "40"), CultureInfo.InvariantCulture);
        var random = new Random(int.Parse(arguments.Options.GetValueOrDefault("seed", "7"), CultureInfo.InvariantCulture));

        using var gmail = new GmailStandIn();
        gmail.AddMessages(messages);
        gmail.ResponseDelay = TimeSpan.FromMilliseconds(10);
        var settings = new Dictionary<string, string>(gmail.ConfigurationFor())
        {
            ["Integrations:Gmail:RedirectUri"] = "http://secondbrain.test/api/integrations/gmail/callback",
            ["Integrations:Gmail:PageSize"] = "50",
            ["Integrations:FrontendUrl"] = "http://frontend.test/integrations",
            ["Sync:LeaseDuration"] = "00:00:08",
            ["Sync:HeartbeatInterval"] = "00:00:01",
            ["Ingestion:LeaseDuration"] = "00:00:08",
            ["Ingestion:RenewInterval"] = "00:00:02",
            ["Ingestion:BatchSize"] = "8",
            // A parse must end within its batch's lease (the services refuse to start otherwise).
            ["Ingestion:Parsing:MaxTimeout"] = "00:00:06",
            ["Knowledge:Extraction:LeaseDuration"] = "00:00:08",
            ["Knowledge:Extraction:RenewInterval"] = "00:00:02"
        };
        await using var stack = await SecondBrainStack.StartAsync(2, 2, settings);
        var clock = Stopwatch.StartNew();

        // Two tenants: one syncs a mailbox, the other uploads a wave of documents every half minute.
        var (mailTenant, mailToken) = await SignupAsync(stack);
        await ConnectAsync(stack, gmail, mailToken);
        var run = await StartSyncAsync(stack, mailToken);
        var (uploadTenant, uploadToken) = await SignupAsync(stack);
        var uploaded = new ConcurrentDictionary<Guid, string>();

        var statuses = new ConcurrentDictionary<int, long>();
        using var stop = new CancellationTokenSource();
        var healthy = new HealthSignal();
        var probe = ProbeAsync(stack, mailToken, run, statuses, healthy, stop.Token);
        var uploads = UploadWavesAsync(stack, uploadToken, wave, uploaded, stop.Token);

        var faults = new List<Fault>();
        var until = TimeSpan.FromMinutes(minutes);
        var progress = new Progress("chaos: faults injected", 0, TimeSpan.FromSeconds(10));
        while (clock.Elapsed < until)
        {
            await Task.Delay(TimeSpan.FromSeconds(random.Next(12, 30)));
            if (clock.Elapsed >= until)
            {
                break;
            }

            faults.Add(await InjectAsync(stack, random, clock, healthy));
            var ingested = await CountAsync(stack, "SELECT count(*) FROM documents WHERE status = 'ingested'");
            progress.Report(faults.Count, $"last {faults[^1].Kind} on {faults[^1].Target}, recovered in {faults[^1].Recovery?.TotalSeconds:F1}s; " +
                                          $"{ingested} documents ingested so far", force: true);
        }

        await stop.CancelAsync();
        await uploads;
        await probe;

        // Settle: the sync finishes and the queues drain, whatever the faults left behind.
        var expected = messages + uploaded.Count;
        var settle = new Progress("chaos: settling (documents ingested)", expected);
        var deadline = DateTimeOffset.UtcNow.AddMinutes(15);
        SyncRunResponse? final = null;
        while (DateTimeOffset.UtcNow < deadline)
        {
            final = await TryGetRunAsync(stack, mailToken, run.Id) ?? final;
            var open = await CountAsync(stack, "SELECT count(*) FROM ingestion_jobs WHERE status IN ('queued', 'running')")
                       + await CountAsync(stack, "SELECT count(*) FROM documents WHERE status = 'pending'");
            settle.Report(await CountAsync(stack, "SELECT count(*) FROM documents WHERE status = 'ingested'"));
            if (final is not null && SyncRunStatuses.IsFinal(final.Status) && open == 0)
            {
                break;
            }

            await Task.Delay(1000);
        }

        // Every expected document, checked: the mailbox's messages by external id, the uploads by id.
        var mail = await CountAsync(stack, $"SELECT count(DISTINCT external_id) FROM documents WHERE tenant_id = '{mailTenant}' AND status = 'ingested'");
        var upload = await CountAsync(stack, $"SELECT count(*) FROM documents WHERE tenant_id = '{uploadTenant}' AND status = 'ingested'");
        var failed = await CountAsync(stack, "SELECT count(*) FROM documents WHERE status = 'failed'");
        var duplicated = await CountAsync(stack, "SELECT count(DISTINCT document_id) FROM (SELECT document_id FROM chunks GROUP BY document_id, position HAVING count(*) > 1) d");
        var stale = await CountAsync(stack, "SELECT count(DISTINCT c.document_id) FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.document_version <> d.version");
        var unindexed = await CountAsync(stack, "SELECT count(*) FROM documents d WHERE d.status = 'ingested' AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.id)");
        var ingestedTotal = mail + upload;
        var lost = expected - ingestedTotal;

        var rows = new List<IReadOnlyList<string>>
        {
            Row("documents expected", expected), Row("documents ingested", ingestedTotal), Row("documents lost", lost),
            Row("documents duplicated", duplicated), Row("documents with stale chunks", stale), Row("ingested without chunks", unindexed),
            Row("documents failed", failed), Row("sync run", final?.Status ?? "unknown"), Row("sync processed", final?.Processed ?? 0)
        };
        foreach (var (status, count) in statuses.OrderBy(s => s.Key))
        {
            rows.Add(Row($"responses {status}", count));
        }

        foreach (var kind in faults.GroupBy(f => f.Kind))
        {
            var recoveries = kind.Where(f => f.Recovery is not null).Select(f => f.Recovery!.Value.TotalSeconds).Order().ToList();
            rows.Add(Row($"fault {kind.Key}", $"{kind.Count()}x, recovery median {Median(recoveries):F1}s, max {(recoveries.Count == 0 ? 0 : recoveries[^1]):F1}s"));
        }

        return new BenchmarkReport("chaos",
            $"{minutes} min of random faults (2 Api, 2 Worker, local mode) during a {messages}-message Gmail sync and {uploaded.Count} uploads; target 0 lost, 0 duplicated, 0 status 500",
            ["measure", "value"], rows,
            new
            {
                minutes, messages, uploads = uploaded.Count, expected, ingested = ingestedTotal, lost, duplicated, stale, unindexed, failed,
                syncStatus = final?.Status, syncProcessed = final?.Processed,
                responses = statuses.OrderBy(s => s.Key).ToDictionary(s => s.Key.ToString(CultureInfo.InvariantCulture), s => s.Value),
                faults = faults.Select(f => new { f.Kind, f.Target, at = f.At.TotalSeconds, duration = f.Duration.TotalSeconds, recovery = f.Recovery?.TotalSeconds })
            });
    }

    /// <summary>One random fault, held for a random while; returns how long the probe took to see everything work again.</summary>
    private static async Task<Fault> InjectAsync(SecondBrainStack stack, Random random, Stopwatch clock, HealthSignal healthy)
    {
        await stack.RefreshReplicasAsync();
        var at = clock.Elapsed;
        // Every kind comes round once in each four faults, in random order, so a short run still meets them all.
        if (Bag.Count == 0)
        {
            Bag.AddRange(new[] { "kill-worker", "pause-worker", "restart-redis", "stop-postgres" }.OrderBy(_ => random.Next()));
        }

        var kind = Bag[0];
        Bag.RemoveAt(0);
        var target = kind.Contains("worker", StringComparison.Ordinal) && stack.WorkerReplicas.Count > 0
            ? stack.WorkerReplicas[random.Next(stack.WorkerReplicas.Count)]
            : null;
        var held = Stopwatch.StartNew();
        switch (kind)
        {
            case "kill-worker" when target is not null:
                await stack.KillAsync(target);
                await Task.Delay(TimeSpan.FromSeconds(random.Next(2, 8)));
                await stack.StartResourceAsync(target.ResourceName);
                break;
            case "pause-worker" when target is not null:
                SecondBrainStack.Pause(target.ProcessId);
                await Task.Delay(TimeSpan.FromSeconds(10 + random.Next(2, 8))); // past the 8 s lease
                SecondBrainStack.Resume(target.ProcessId);
                break;
            case "restart-redis":
                await stack.KillResourceAsync("redis");
                await Task.Delay(TimeSpan.FromSeconds(random.Next(2, 8)));
                await stack.StartResourceAsync("redis");
                break;
            default:
                kind = "stop-postgres";
                if (stack.ProcessIdOf("postgres") is { } pid)
                {
                    SecondBrainStack.Interrupt(pid);
                    await stack.App.ResourceNotifications.WaitForResourceAsync("postgres", s => s.Snapshot.State?.Text is "Exited" or "Finished" or "Stopped",
                        new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
                    await Task.Delay(TimeSpan.FromSeconds(random.Next(4, 15)));
                    await stack.StartResourceAsync("postgres");
                }

                break;
        }

        var duration = held.Elapsed;
        var recovery = await healthy.WaitAsync(TimeSpan.FromMinutes(2));
        return new Fault(kind, target?.InstanceId ?? kind.Split('-')[1], at, duration, recovery);
    }

    /// <summary>Counts the moments when every probe call succeeded, so a fault's recovery can be timed from its end.</summary>
    private sealed class HealthSignal
    {
        private long _lastHealthyTicks;

        public void Healthy() => Interlocked.Exchange(ref _lastHealthyTicks, Stopwatch.GetTimestamp());

        public async Task<TimeSpan?> WaitAsync(TimeSpan timeout)
        {
            var from = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(from) < timeout)
            {
                if (Interlocked.Read(ref _lastHealthyTicks) > from)
                {
                    return Stopwatch.GetElapsedTime(from, Interlocked.Read(ref _lastHealthyTicks));
                }

                await Task.Delay(100);
            }

            return null;
        }
    }

    private static async Task ProbeAsync(SecondBrainStack stack, string token, SyncRunResponse run, ConcurrentDictionary<int, long> statuses, HealthSignal healthy,
        CancellationToken ct)
    {
        var email = await EmailAsync(stack, token);
        for (var i = 0; !ct.IsCancellationRequested; i++)
        {
            var api = stack.ApiReplicas[i % stack.ApiReplicas.Count];
            using var client = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
            var ok = true;
            ok &= await CallAsync(statuses, () => client.PostAsJsonAsync("api/auth/login", new LoginRequest(email, Password)));
            ok &= await CallAsync(statuses, () => client.PostAsJsonAsync("api/search", new SearchRequest("message", "hybrid")));
            ok &= await CallAsync(statuses, () => client.GetAsync("api/documents?pageSize=5"));
            ok &= await CallAsync(statuses, () => client.GetAsync($"api/sync/runs/{run.Id}"));
            if (ok)
            {
                healthy.Healthy();
            }

            try
            {
                await Task.Delay(200, ct);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static async Task<bool> CallAsync(ConcurrentDictionary<int, long> statuses, Func<Task<HttpResponseMessage>> call)
    {
        try
        {
            using var response = await call();
            statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // No answer at all (connection refused or reset): counted apart from status codes.
            statuses.AddOrUpdate(0, 1, (_, n) => n + 1);
            return false;
        }
    }

    private static async Task UploadWavesAsync(SecondBrainStack stack, string token, int wave, ConcurrentDictionary<Guid, string> uploaded, CancellationToken ct)
    {
        for (var round = 0; !ct.IsCancellationRequested; round++)
        {
            var api = stack.ApiReplicas[round % stack.ApiReplicas.Count];
            using var client = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
            using var form = new MultipartFormDataContent();
            for (var i = 0; i < wave; i++)
            {
                var text = $"Wave {round} document {i}. The release train leaves every second Tuesday. " +
                           string.Join(" ", Enumerable.Repeat($"Paragraph about shipment {round}-{i} and its customs papers.", 1 + i % 30));
                form.Add(new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(text)), "files", $"wave-{round:D3}-{i:D3}.txt");
            }

            try
            {
                var response = await client.PostAsync("api/documents", form, ct);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    foreach (var id in (await response.Content.ReadFromJsonAsync<SecondBrain.Core.Documents.DocumentsAccepted>(Json, ct))!.DocumentIds)
                    {
                        uploaded[id] = $"wave-{round}";
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not accepted (an outage): not expected either. Only accepted uploads count as expected documents.
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), ct);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static async Task<(Guid Tenant, string Token)> SignupAsync(SecondBrainStack stack)
    {
        using var client = new HttpClient { BaseAddress = stack.ApiAddresses[0] };
        var response = await client.PostAsJsonAsync("api/auth/signup", new SignupRequest("Chaos", $"chaos-{Guid.NewGuid():N}@example.test", Password, "Chaos"));
        response.EnsureSuccessStatusCode();
        var signup = (await response.Content.ReadFromJsonAsync<SignupResponse>(Json))!;
        return (signup.Tenant.Id, signup.Tokens.AccessToken);
    }

    private static async Task<string> EmailAsync(SecondBrainStack stack, string token)
    {
        using var client = new HttpClient { BaseAddress = stack.ApiAddresses[0] };
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return (await client.GetFromJsonAsync<MeResponse>("api/auth/me", Json))!.User.Email;
    }

    private static async Task ConnectAsync(SecondBrainStack stack, GmailStandIn gmail, string token)
    {
        if (await OAuthRoundTrip.ConnectAsync(stack.ApiAddresses[0], stack.ApiAddresses[^1], token, "gmail", gmail.IssueAuthorizationCode) is { } error)
        {
            throw new InvalidOperationException($"Connecting the Gmail stand-in failed: {error}");
        }
    }

    private static async Task<SyncRunResponse> StartSyncAsync(SecondBrainStack stack, string token)
    {
        using var client = new HttpClient { BaseAddress = stack.ApiAddresses[0] };
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var response = await client.PostAsync("api/sync/gmail", null);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<SyncRunResponse>(Json))!;
    }

    private static async Task<SyncRunResponse?> TryGetRunAsync(SecondBrainStack stack, string token, Guid runId)
    {
        try
        {
            using var client = new HttpClient { BaseAddress = stack.ApiAddresses[0], Timeout = TimeSpan.FromSeconds(10) };
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
            return await client.GetFromJsonAsync<SyncRunResponse>($"api/sync/runs/{runId}", Json);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static async Task<long> CountAsync(SecondBrainStack stack, string sql)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(stack.DatabaseConnectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(sql, connection);
                return Convert.ToInt64(await command.ExecuteScalarAsync() ?? 0L, CultureInfo.InvariantCulture);
            }
            catch (NpgsqlException) when (attempt < 60)
            {
                NpgsqlConnection.ClearAllPools();
                await Task.Delay(1000);
            }
        }
    }

    private static double Median(List<double> values) => values.Count == 0 ? 0 : values[values.Count / 2];

    private static IReadOnlyList<string> Row(string measure, object value) => [measure, Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""];
}
