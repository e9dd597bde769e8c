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
    public async Task Connect_needs_a_known_provider_and_an_admin()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        await (await client.PostAsync("api/integrations/dropbox/connect", null)).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.UnknownProvider);
        using var anonymous = app.Api(1).CreateClient();
        await (await anonymous.PostAsync("api/integrations/gmail/connect", null)).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);
    }
}
