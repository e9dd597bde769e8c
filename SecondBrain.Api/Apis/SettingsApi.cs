using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Ingestion.Parsing;
using SecondBrain.Core.Tenancy;

namespace Microsoft.AspNetCore.Builder;

public static class SettingsApi
{
    public static RouteGroupBuilder MapSettingsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/admin/settings").WithTags("Admin").RequireAuthorization(AuthenticationSetup.AdminPolicy);

        api.MapGet("/parsing", GetParsingAsync)
            .WithName("GetParsingSettings")
            .WithSummary("The tenant's parsing settings in force (version 0 = defaults), within the deployment's ceilings.");
        api.MapPut("/parsing", PutParsingAsync)
            .WithName("PutParsingSettings")
            .WithSummary("Store a new version; every instance uses it for the next document (Redis notification plus a version check on use). 400 validation_failed above a deployment ceiling (Ingestion:Parsing).");
        return api;
    }

    public static async Task<Ok<ParsingSettings>> GetParsingAsync(ParsingSettingsStore store, TenantContext tenant, CancellationToken ct) =>
        TypedResults.Ok(await store.GetCurrentAsync(tenant.TenantId!.Value, ct));

    /// <summary>A value above the deployment's ceiling (<see cref="ParsingLimits"/>) is refused, naming the ceiling.</summary>
    public static async Task<Results<Ok<ParsingSettings>, ProblemHttpResult>> PutParsingAsync(
        ParsingSettings settings, ParsingSettingsStore store, TenantContext tenant, IOptions<ParsingLimits> limits, HttpContext http, CancellationToken ct)
    {
        var errors = ParsingSettingsStore.Validate(settings, limits.Value);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors).ToHttpResult(http);
        }

        return TypedResults.Ok(await store.SaveAsync(tenant.TenantId!.Value, settings, tenant.UserId, ct));
    }
}
