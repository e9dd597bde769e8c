using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Identity;
using SecondBrain.Core.Integrations;
using SecondBrain.Core.Sync;
using SecondBrain.ServiceDefaults.Telemetry;
using SecondBrain.TestSupport;
using SecondBrain.TestSupport.Stack;
using SecondBrain.TestSupport.StandIns;
using StackExchange.Redis;

namespace SecondBrain.Tests.Infrastructure;

public sealed record OAuthFlow(string Provider, Uri AuthorizeUrl, string State);

/// <summary>
/// Starts the real AppHost once per test collection in local mode (redis-server and postgres as executables, a
/// fresh data directory) with several Api and Worker replicas, and WireMock stand-ins for Google, Slack and Box
/// configured through the same Integrations settings a deployment uses (and one for Document Intelligence, through
/// its connection string). Each replica's own endpoint is found
/// through the instance heartbeats in Redis.
/// </summary>
public class SecondBrainAppFixture : IAsyncLifetime
{
    public const int ApiReplicaCount = 3;
    public const int WorkerReplicaCount = 2;
    public const int ProviderPageSize = 50;
    public string FrontendUrl { get; } = "http://frontend.test/integrations";

    public SecondBrainStack Stack { get; private set; } = null!;
    public DistributedApplication App => Stack.App;
    public IReadOnlyList<Replica> ApiReplicas => Stack.ApiReplicas;
    public IReadOnlyList<Replica> WorkerReplicas => Stack.WorkerReplicas;
    public string DatabaseConnectionString => Stack.DatabaseConnectionString;
    public IConnectionMultiplexer Redis => Stack.Redis;
    public InstanceDirectory Instances => Stack.Instances;

    public GmailStandIn Gmail { get; } = new();
    public SlackStandIn Slack { get; } = new();
    public BoxStandIn Box { get; } = new();
    public DocumentIntelligenceStandIn DocumentIntelligence { get; } = new();
    public SmtpStandIn Mail { get; } = new();

    protected virtual int ApiCount => ApiReplicaCount;

    protected virtual int WorkerCount => WorkerReplicaCount;

    /// <summary>Settings a derived fixture adds or overrides (e.g. shorter leases for fault tests).</summary>
    protected virtual void Configure(Dictionary<string, string> settings)
    {
    }

    /// <summary>Changes to the application model a derived fixture makes before it is built.</summary>
    protected virtual void Configure(IDistributedApplicationTestingBuilder builder)
    {
    }

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string>
        {
            ["Integrations:FrontendUrl"] = FrontendUrl,
            ["Sync:LeaseDuration"] = "00:00:06",
            ["Sync:HeartbeatInterval"] = "00:00:01",
            ["Sync:RetryBackoff"] = "00:00:01",
            ["ConnectionStrings:documentintelligence"] = DocumentIntelligence.ConnectionString(),
            ["ConnectionStrings:smtp"] = Mail.ConnectionString,
            ["Mail:FrontendUrl"] = "http://frontend.test",
            ["Mail:PollInterval"] = "00:00:01",
            ["Mail:RetryBackoff"] = "00:00:01"
        };
        foreach (var (section, config) in new[] { ("Gmail", Gmail.ConfigurationFor()), ("Slack", Slack.ConfigurationFor()), ("Box", Box.ConfigurationFor()) })
        {
            foreach (var (key, value) in config)
            {
                settings[key] = value;
            }

            settings[$"Integrations:{section}:RedirectUri"] = $"http://secondbrain.test/api/integrations/{section.ToLowerInvariant()}/callback";
            settings[$"Integrations:{section}:PageSize"] = ProviderPageSize.ToString();
        }

        Configure(settings);
        Stack = await SecondBrainStack.StartAsync(new StackOptions
        {
            ApiReplicas = ApiCount,
            WorkerReplicas = WorkerCount,
            Settings = settings,
            Configure = Configure,
            StartTimeout = TimeSpan.FromMinutes(4)
        });
    }

    /// <summary>
    /// The operator's access token. The Worker creates the account at start-up, so this waits for it (a few
    /// seconds at most) rather than racing it.
    /// </summary>
    public async Task<string> OperatorTokenAsync()
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (true)
        {
            var login = await Api(0).LoginAsync(SecondBrainStack.OperatorEmail, Stack.OperatorPassword);
            if (login.StatusCode == HttpStatusCode.OK)
            {
                return (await login.Content.ReadFromJsonAsync<TokenResponse>(ApiClient.Json))!.AccessToken;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"the operator account never accepted its login ({(int)login.StatusCode})");
            await Task.Delay(500);
        }
    }

    public Replica Api(int index) => ApiReplicas[((index % ApiReplicas.Count) + ApiReplicas.Count) % ApiReplicas.Count];

    /// <summary>A code the provider's stand-in will accept, as if the user had consented in the browser.</summary>
    public string StandInCode(string provider) => provider switch
    {
        "gmail" => Gmail.IssueAuthorizationCode(),
        "slack" => Slack.IssueAuthorizationCode(),
        "box" => Box.IssueAuthorizationCode(),
        _ => throw new ArgumentOutOfRangeException(nameof(provider))
    };

    // Who started each flow: the front end completes a flow with the bearer token of the user who started it.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _flowOwners = new(StringComparer.Ordinal);

    public async Task<OAuthFlow> ConnectAsync(string accessToken, string provider, int connectOn)
    {
        using var client = Api(connectOn).CreateClient(accessToken);
        var response = await client.PostAsync($"api/integrations/{provider}/connect", null);
        await response.EnsureStatusAsync(HttpStatusCode.OK);
        var body = (await response.Content.ReadFromJsonAsync<ConnectResponse>(ApiClient.Json))!;
        var state = QueryHelpers.ParseQuery(body.AuthorizeUrl.Query)["state"].ToString();
        Assert.False(string.IsNullOrEmpty(state), "the authorize URL carries a state");
        _flowOwners[state] = accessToken;
        return new OAuthFlow(provider, body.AuthorizeUrl, state);
    }

    /// <summary>
    /// What the browser and the front end do after consent: the browser GETs the callback on one replica and is sent
    /// on to the front end with the code and state; the front end POSTs them on the next replica with the bearer token
    /// of <paramref name="asUser"/> (by default whoever started the flow). Returns the outcome as the front end would
    /// show it: <c>?connected={provider}</c> or <c>?error={code}</c>.
    /// </summary>
    public async Task<Uri> CallbackAsync(string provider, string state, string code, int callbackOn, string? asUser = null)
    {
        using var browser = Api(callbackOn).CreateBrowserClient();
        var response = await browser.GetAsync($"api/integrations/{provider}/callback?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(state)}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var forwarded = response.Headers.Location!;
        Assert.Equal(FrontendUrl, forwarded.GetLeftPart(UriPartial.Path));
        var query = QueryHelpers.ParseQuery(forwarded.Query);
        if (query.TryGetValue("error", out var error))
        {
            return forwarded;
        }

        var token = asUser ?? _flowOwners.GetValueOrDefault(state) ?? (await Api(callbackOn).SignupAsync()).Tokens.AccessToken;
        using var frontEnd = Api(callbackOn + 1).CreateClient(token);
        var completed = await frontEnd.PostAsJsonAsync($"api/integrations/{provider}/complete",
            new CompleteConnectionRequest(query["code"].ToString(), query["state"].ToString()));
        if (completed.IsSuccessStatusCode)
        {
            return new Uri(QueryHelpers.AddQueryString(FrontendUrl, "connected", provider));
        }

        var problem = await completed.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(ApiClient.Json);
        return new Uri(QueryHelpers.AddQueryString(FrontendUrl, "error", problem.GetProperty("code").GetString()!));
    }

    /// <summary>Lets an OAuth attempt's 10-minute TTL run out now, as Redis would.</summary>
    public async Task ExpireOAuthStateAsync(string state)
    {
        var key = "sb:oauth:state:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(state)));
        Assert.True(await Redis.GetDatabase().KeyExpireAsync(key, TimeSpan.FromMilliseconds(1)), "the attempt was stored under the state's hash");
        await Task.Delay(50);
    }

    /// <summary>Signs up a tenant and connects it to <paramref name="provider"/> through the real OAuth flow.</summary>
    public async Task<Core.Identity.SignupResponse> ConnectedTenantAsync(string provider)
    {
        var tenant = await Api(0).SignupAsync();
        var flow = await ConnectAsync(tenant.Tokens.AccessToken, provider, 1);
        var redirect = await CallbackAsync(provider, flow.State, StandInCode(provider), 2);
        Assert.Equal(provider, QueryHelpers.ParseQuery(redirect.Query)["connected"].ToString());
        return tenant;
    }

    public async Task<SyncRunResponse> StartSyncAsync(string accessToken, string source, int on = 0)
    {
        using var client = Api(on).CreateClient(accessToken);
        var response = await client.PostAsync($"api/sync/{source}", null);
        await response.EnsureStatusAsync(HttpStatusCode.Accepted);
        return (await response.Content.ReadFromJsonAsync<SyncRunResponse>(ApiClient.Json))!;
    }

    public async Task<SyncRunResponse> GetRunAsync(string accessToken, Guid runId, int on = 0)
    {
        using var client = Api(on).CreateClient(accessToken);
        return (await client.GetFromJsonAsync<SyncRunResponse>($"api/sync/runs/{runId}", ApiClient.Json))!;
    }

    /// <summary>Polls (round-robin over the replicas) until the run ends; returns every observation.</summary>
    public async Task<(SyncRunResponse Final, List<SyncRunResponse> Observed)> WaitForRunAsync(string accessToken, Guid runId, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromMinutes(3));
        var observed = new List<SyncRunResponse>();
        for (var i = 0; ; i++)
        {
            var run = await GetRunAsync(accessToken, runId, i);
            observed.Add(run);
            if (SyncRunStatuses.IsFinal(run.Status))
            {
                return (run, observed);
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                Assert.Fail($"Run {runId} still {run.Status} after the timeout: {run.Processed} processed, stage {run.Stage}");
            }

            await Task.Delay(150);
        }
    }

    public virtual async Task DisposeAsync()
    {
        if (Stack is not null)
        {
            await Stack.DisposeAsync();
        }

        Gmail.Dispose();
        Slack.Dispose();
        Box.Dispose();
        DocumentIntelligence.Dispose();
        Mail.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class SecondBrainAppCollection : ICollectionFixture<SecondBrainAppFixture>
{
    public const string Name = "SecondBrain app (local mode, several replicas)";
}

/// <summary>A second, separate stack for tests that kill processes, so they cannot disturb the others.</summary>
[CollectionDefinition(Name)]
public sealed class DisposableAppCollection : ICollectionFixture<SecondBrainAppFixture>
{
    public const string Name = "SecondBrain app for destructive tests";
}
