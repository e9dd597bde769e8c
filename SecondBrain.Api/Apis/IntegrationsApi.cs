using Microsoft.AspNetCore.Http.HttpResults;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Integrations;

namespace Microsoft.AspNetCore.Builder;

public static class IntegrationsApi
{
    public static RouteGroupBuilder MapIntegrationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/integrations").WithTags("Integrations");

        api.MapGet("/", ListAsync)
            .WithName("ListIntegrations")
            .WithSummary("Each provider's connection status, account and active sync run.");
        api.MapPost("/{provider}/connect", ConnectAsync)
            .RequireAuthorization(AuthenticationSetup.AdminPolicy)
            .WithName("ConnectIntegration")
            .WithSummary("Start OAuth: returns the provider's authorize URL (state valid for 10 minutes, single use).");
        api.MapGet("/{provider}/callback", Callback)
            .AllowAnonymous()
            .WithName("IntegrationCallback")
            .WithSummary("The provider redirects the browser here (any instance); it is sent on to the front end with ?provider=&code=&state= (or ?error=). Nothing is exchanged here.");
        api.MapPost("/{provider}/complete", CompleteAsync)
            .RequireAuthorization(AuthenticationSetup.AdminPolicy)
            .WithName("CompleteIntegration")
            .WithSummary("The front end completes the connection for the signed-in user who started it: {code, state} from the redirect. 400 invalid_state for anyone else's attempt.");
        api.MapDelete("/{provider}", DisconnectAsync)
            .RequireAuthorization(AuthenticationSetup.AdminPolicy)
            .WithName("DisconnectIntegration")
            .WithSummary("Disconnect: revokes at the provider where it can and stops a running sync.");

        return api;
    }

    public static async Task<Ok<IReadOnlyList<IntegrationStatus>>> ListAsync(IntegrationService integrations, CancellationToken ct) =>
        TypedResults.Ok(await integrations.ListAsync(ct));

    public static async Task<Results<Ok<ConnectResponse>, ProblemHttpResult>> ConnectAsync(
        string provider, IntegrationService integrations, HttpContext http, CancellationToken ct)
    {
        var outcome = await integrations.ConnectAsync(provider, ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static RedirectHttpResult Callback(string provider, string? code, string? state, string? error, IntegrationService integrations) =>
        TypedResults.Redirect(integrations.ForwardCallback(provider, code, state, error).ToString());

    public static async Task<Results<Ok<IntegrationStatus>, ProblemHttpResult>> CompleteAsync(
        string provider, CompleteConnectionRequest request, IntegrationService integrations, HttpContext http, CancellationToken ct)
    {
        var outcome = await integrations.CompleteAsync(provider, request, ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DisconnectAsync(
        string provider, IntegrationService integrations, HttpContext http, CancellationToken ct) =>
        await integrations.DisconnectAsync(provider, ct) is { } problem ? problem.ToHttpResult(http) : TypedResults.NoContent();
}
