using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using SecondBrain.Benchmarks.Reporting;
using SecondBrain.Benchmarks.Stack;
using SecondBrain.Core.Identity;
using SecondBrain.Core.Integrations;
using SecondBrain.Core.Sync;
using SecondBrain.TestSupport.StandIns;

namespace SecondBrain.Benchmarks.Connectors;

/// <summary>
/// oauth: connect-plus-callback throughput through 3 Api replicas against 1, every callback on a different replica
/// than its connect (success must be 100%). sync: items/s of a Gmail sync of a large mailbox served by the stand-in,
/// and Redis round trips per item.
/// </summary>
public static class ConnectorsBenchmark
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<BenchmarkReport> OAuthAsync(BenchmarkArguments arguments)
    {
        var flows = arguments.Options.TryGetValue("flows", out var f) ? int.Parse(f, CultureInfo.InvariantCulture) : 300;
        var concurrency = arguments.Options.TryGetValue("concurrency", out var c) ? int.Parse(c, CultureInfo.InvariantCulture) : 16;
        var results = new List<(int Replicas, int Flows, int Succeeded, double Seconds)>();
        foreach (var replicas in new[] { 1, 3 })
        {
            using var gmail = new GmailStandIn();
            await using var stack = await SecondBrainStack.StartAsync(replicas, 1, Settings(gmail.ConfigurationFor(), "Gmail"));
            Console.WriteLine($"oauth: {replicas} Api replica(s), {flows} flows, concurrency {concurrency}...");
            var tenants = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => SignupAsync(stack.ApiAddresses[i % stack.ApiAddresses.Count])));
            await RunFlowsAsync(stack, gmail, tenants, Math.Min(100, flows), concurrency); // warm-up: JIT and pools on every replica
            var clock = Stopwatch.StartNew();
            var succeeded = await RunFlowsAsync(stack, gmail, tenants, flows, concurrency);
            results.Add((replicas, flows, succeeded, clock.Elapsed.TotalSeconds));
        }

        var baseline = results[0].Flows / results[0].Seconds;
        var rows = results.Select(r => (IReadOnlyList<string>)
        [
            r.Replicas.ToString(CultureInfo.InvariantCulture), r.Flows.ToString(CultureInfo.InvariantCulture),
            (100.0 * r.Succeeded / r.Flows).ToString("F1", CultureInfo.InvariantCulture),
            (r.Flows / r.Seconds).ToString("F1", CultureInfo.InvariantCulture),
            (r.Flows / r.Seconds / baseline).ToString("F2", CultureInfo.InvariantCulture)
        ]).ToList();
        return new BenchmarkReport("oauth",
            $"connect + callback flows (callback on another replica than connect), concurrency {concurrency}, {Environment.ProcessorCount} cores",
            ["api replicas", "flows", "success %", "flows/s", "vs 1 replica"], rows,
            results.Select(r => new { r.Replicas, r.Flows, r.Succeeded, r.Seconds, FlowsPerSecond = r.Flows / r.Seconds, RatioToOneReplica = r.Flows / r.Seconds / baseline }));
    }

    public static async Task<BenchmarkReport> SyncAsync(BenchmarkArguments arguments)
    {
        var messages = arguments.Options.TryGetValue("messages", out var m) ? int.Parse(m, CultureInfo.InvariantCulture) : 10_000;
        using var gmail = new GmailStandIn();
        gmail.AddMessages(messages);
        var settings = Settings(gmail.ConfigurationFor(), "Gmail");
        settings["Integrations:Gmail:PageSize"] = "100";
        await using var stack = await SecondBrainStack.StartAsync(1, 1, settings);
        var tenant = await SignupAsync(stack.ApiAddresses[0]);
        await ConnectAsync(stack.ApiAddresses[0], stack.ApiAddresses[0], gmail, tenant.Tokens.AccessToken);

        using var client = Client(stack.ApiAddresses[0], tenant.Tokens.AccessToken);
        var commandsBefore = await stack.RedisCommandsProcessedAsync();
        var clock = Stopwatch.StartNew();
        var started = await (await client.PostAsync("api/sync/gmail", null)).Content.ReadFromJsonAsync<SyncRunResponse>(Json);
        SyncRunResponse run;
        do
        {
            await Task.Delay(250);
            run = (await client.GetFromJsonAsync<SyncRunResponse>($"api/sync/runs/{started!.Id}", Json))!;
        }
        while (!SyncRunStatuses.IsFinal(run.Status));

        var seconds = (run.FinishedAt!.Value - run.StartedAt!.Value).TotalSeconds;
        var commands = await stack.RedisCommandsProcessedAsync() - commandsBefore;
        var perSecond = run.Processed / seconds;
        return new BenchmarkReport("sync",
            $"Gmail sync of {messages} messages from the stand-in (format=raw, page size 100), 1 worker, {Environment.ProcessorCount} cores",
            ["status", "items", "seconds", "items/s", "redis commands", "redis commands/item"],
            [[run.Status, run.Processed.ToString(CultureInfo.InvariantCulture), seconds.ToString("F1", CultureInfo.InvariantCulture),
              perSecond.ToString("F0", CultureInfo.InvariantCulture), commands.ToString(CultureInfo.InvariantCulture),
              (commands / (double)Math.Max(1, run.Processed)).ToString("F3", CultureInfo.InvariantCulture)]],
            new { run.Status, Items = run.Processed, run.Failed, Seconds = seconds, ItemsPerSecond = perSecond, RedisCommands = commands,
                  RedisCommandsPerItem = commands / (double)Math.Max(1, run.Processed), Note = "Redis commands include every instance's heartbeats and the poller's reads during the run." });
    }

    private static Dictionary<string, string> Settings(Dictionary<string, string> provider, string section)
    {
        var settings = new Dictionary<string, string>(provider)
        {
            ["Integrations:FrontendUrl"] = "http://frontend.bench/integrations",
            [$"Integrations:{section}:RedirectUri"] = $"http://secondbrain.bench/api/integrations/{section.ToLowerInvariant()}/callback"
        };
        return settings;
    }

    private static async Task<int> RunFlowsAsync(SecondBrainStack stack, GmailStandIn gmail, SignupResponse[] tenants, int flows, int concurrency)
    {
        using var gate = new SemaphoreSlim(concurrency);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, flows).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var tenant = tenants[i % tenants.Length];
                return await ConnectAsync(stack.ApiAddresses[i % stack.ApiAddresses.Count], stack.ApiAddresses[(i + 1) % stack.ApiAddresses.Count], gmail, tenant.Tokens.AccessToken);
            }
            catch (HttpRequestException)
            {
                return false;
            }
            finally
            {
                gate.Release();
            }
        }));
        return outcomes.Count(o => o);
    }

    private static async Task<bool> ConnectAsync(Uri connectOn, Uri callbackOn, GmailStandIn gmail, string accessToken) =>
        await OAuthRoundTrip.ConnectAsync(connectOn, callbackOn, accessToken, "gmail", gmail.IssueAuthorizationCode) is null;

    private static async Task<SignupResponse> SignupAsync(Uri api)
    {
        using var client = new HttpClient { BaseAddress = api };
        var response = await client.PostAsJsonAsync("api/auth/signup",
            new SignupRequest("Bench", $"bench-{Guid.NewGuid():N}@example.test", "bench-password-1", "Bench"));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<SignupResponse>(Json))!;
    }

    private static HttpClient Client(Uri api, string accessToken)
    {
        var client = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(100) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }
}
