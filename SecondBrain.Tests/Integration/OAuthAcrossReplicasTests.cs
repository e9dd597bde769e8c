using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.WebUtilities;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Integrations;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

[Collection(SecondBrainAppCollection.Name)]
public sealed class OAuthAcrossReplicasTests(SecondBrainAppFixture app)
{
    [Theory]
    [InlineData("gmail")]
    [InlineData("slack")]
    [InlineData("box")]
    public async Task Connect_on_one_replica_and_callback_on_another_succeeds(string provider)
    {
        var tenant = await app.Api(0).SignupAsync();
        var flow = await app.ConnectAsync(tenant.Tokens.AccessToken, provider, connectOn: 0);
        var redirect = await app.CallbackAsync(provider, flow.State, app.StandInCode(provider), callbackOn: 1);

        Assert.Equal(app.FrontendUrl, redirect.GetLeftPart(UriPartial.Path));
        Assert.Equal(provider, QueryHelpers.ParseQuery(redirect.Query)["connected"].ToString());

        using var onC = app.Api(2).CreateClient(tenant.Tokens.AccessToken);
        var statuses = (await onC.GetFromJsonAsync<IntegrationStatus[]>("api/integrations", ApiClient.Json))!;
        var status = Assert.Single(statuses, s => s.Provider == provider);
        Assert.Equal(ConnectionStatuses.Connected, status.Status);
        Assert.NotNull(status.AccountLabel);
    }

    [Fact]
    public async Task A_hundred_interleaved_flows_spread_over_the_replicas_all_succeed()
    {
        var tenants = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => app.Api(i).SignupAsync()));
        var providers = new[] { "gmail", "slack", "box" };
        var flows = Enumerable.Range(0, 100).Select(i => (Tenant: tenants[i % tenants.Length], Provider: providers[i % 3], Index: i)).ToList();

        // All connects first (interleaving the pending attempts), then every callback on a different replica.
        var started = await Task.WhenAll(flows.Select(f => app.ConnectAsync(f.Tenant.Tokens.AccessToken, f.Provider, connectOn: f.Index)));
        using var gate = new SemaphoreSlim(12);
        var redirects = await Task.WhenAll(flows.Select(async (f, i) =>
        {
            await gate.WaitAsync();
            try
            {
                return await app.CallbackAsync(f.Provider, started[i].State, app.StandInCode(f.Provider), callbackOn: f.Index + 1);
            }
            finally
            {
                gate.Release();
            }
        }));

        var failures = redirects.Where(r => !QueryHelpers.ParseQuery(r.Query).ContainsKey("connected")).Select(r => r.Query).ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} of 100 flows failed: {string.Join("; ", failures.Take(5))}");
    }

    [Fact]
    public async Task A_replayed_state_is_rejected_without_a_token_exchange()
    {
        var tenant = await app.Api(0).SignupAsync();
        var flow = await app.ConnectAsync(tenant.Tokens.AccessToken, "gmail", connectOn: 1);
        var first = await app.CallbackAsync("gmail", flow.State, app.StandInCode("gmail"), callbackOn: 2);
        Assert.True(QueryHelpers.ParseQuery(first.Query).ContainsKey("connected"));

        var grants = app.Gmail.CodeGrants;
        var replay = await app.CallbackAsync("gmail", flow.State, app.StandInCode("gmail"), callbackOn: 0);
        Assert.Equal(CallbackErrors.InvalidState, QueryHelpers.ParseQuery(replay.Query)["error"].ToString());
        Assert.Equal(grants, app.Gmail.CodeGrants);
    }

    [Fact]
    public async Task Expired_unknown_and_cross_provider_states_are_rejected()
    {
        var tenant = await app.Api(0).SignupAsync();

        var expired = await app.ConnectAsync(tenant.Tokens.AccessToken, "box", connectOn: 0);
        await app.ExpireOAuthStateAsync(expired.State);
        var afterExpiry = await app.CallbackAsync("box", expired.State, app.StandInCode("box"), callbackOn: 1);
        Assert.Equal(CallbackErrors.InvalidState, QueryHelpers.ParseQuery(afterExpiry.Query)["error"].ToString());

        var unknown = await app.CallbackAsync("slack", "made-up-state", app.StandInCode("slack"), callbackOn: 2);
        Assert.Equal(CallbackErrors.InvalidState, QueryHelpers.ParseQuery(unknown.Query)["error"].ToString());

        // A state issued for Slack cannot complete a Gmail callback.
        var slack = await app.ConnectAsync(tenant.Tokens.AccessToken, "slack", connectOn: 1);
        var crossed = await app.CallbackAsync("gmail", slack.State, app.StandInCode("gmail"), callbackOn: 2);
        Assert.Equal(CallbackErrors.InvalidState, QueryHelpers.ParseQuery(crossed.Query)["error"].ToString());
    }

    [Fact]
    public async Task A_provider_error_is_reported_as_provider_denied()
    {
        var tenant = await app.Api(0).SignupAsync();
        var flow = await app.ConnectAsync(tenant.Tokens.AccessToken, "slack", connectOn: 2);
        using var browser = app.Api(0).CreateBrowserClient();
        var response = await browser.GetAsync($"api/integrations/slack/callback?error=access_denied&state={Uri.EscapeDataString(flow.State)}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(CallbackErrors.ProviderDenied, QueryHelpers.ParseQuery(response.Headers.Location!.Query)["error"].ToString());
    }

    [Fact]
    public async Task An_attackers_authorize_link_completed_by_someone_else_exchanges_no_code()
    {
        // The attacker starts a connect in their own tenant and sends the authorize link to a victim, who consents:
        // the provider redirects the victim's browser with a code for the victim's account and the attacker's state.
        var attacker = await app.Api(0).SignupAsync();
        var victim = await app.Api(1).SignupAsync();
        var flow = await app.ConnectAsync(attacker.Tokens.AccessToken, "gmail", connectOn: 0);
        var grants = app.Gmail.CodeGrants;
        var tokenRequests = app.Gmail.TokenRequests;

        // The victim's front end completes it with the victim's session: refused, nothing exchanged, nothing connected.
        var outcome = await app.CallbackAsync("gmail", flow.State, app.StandInCode("gmail"), callbackOn: 1, asUser: victim.Tokens.AccessToken);
        Assert.Equal(CallbackErrors.InvalidState, QueryHelpers.ParseQuery(outcome.Query)["error"].ToString());
        Assert.Equal(grants, app.Gmail.CodeGrants);
        Assert.Equal(tokenRequests, app.Gmail.TokenRequests);

        // An anonymous completion is refused outright, and the attempt is spent: the attacker cannot use it either.
        using var anonymous = app.Api(2).CreateClient();
        var unauthenticated = await anonymous.PostAsJsonAsync("api/integrations/gmail/complete", new CompleteConnectionRequest("code", flow.State));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        var late = await app.CallbackAsync("gmail", flow.State, app.StandInCode("gmail"), callbackOn: 2, asUser: attacker.Tokens.AccessToken);
        Assert.Equal(CallbackErrors.InvalidState, QueryHelpers.ParseQuery(late.Query)["error"].ToString());
        Assert.Equal(grants, app.Gmail.CodeGrants);

        foreach (var tenant in new[] { attacker, victim })
        {
            using var client = app.Api(0).CreateClient(tenant.Tokens.AccessToken);
            var statuses = (await client.GetFromJsonAsync<IntegrationStatus[]>("api/integrations", ApiClient.Json))!;
            Assert.Equal("not_connected", statuses.Single(s => s.Provider == "gmail").Status);
        }
    }

    [Fact]
    public async Task An_unreachable_token_endpoint_fails_the_connection_within_seconds_with_one_attempt()
    {
        var tenant = await app.Api(0).SignupAsync();
        var flow = await app.ConnectAsync(tenant.Tokens.AccessToken, "gmail", connectOn: 0);
        var tokenRequests = app.Gmail.TokenRequests;
        app.Gmail.TokenEndpointDelay = TimeSpan.FromSeconds(20);
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var outcome = await app.CallbackAsync("gmail", flow.State, app.StandInCode("gmail"), callbackOn: 1);
            Assert.Equal(CallbackErrors.ProviderUnavailable, QueryHelpers.ParseQuery(outcome.Query)["error"].ToString());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(tokenRequests + 1, app.Gmail.TokenRequests); // never retried: a code works once
        }
        finally
        {
            app.Gmail.TokenEndpointDelay = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task Connect_needs_a_known_provider_and_an_admin()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        await (await client.PostAsync("api/integrations/dropbox/connect", null)).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.UnknownProvider);
        using var anonymous = app.Api(1).CreateClient();
        await (await anonymous.PostAsync("api/integrations/gmail/connect", null)).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);
    }
}
