using Microsoft.AspNetCore.Http.HttpResults;
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
            .WithSummary("The tenant's parsing settings in force (version 0 = defaults).");
        api.MapPut("/parsing", PutParsingAsync)
            .WithName("PutParsingSettings")
            .WithSummary("Store a new version; every instance uses it for the next document (Redis notification plus a version check on use).");
        return api;
    }

    public static async Task<Ok<ParsingSettings>> GetParsingAsync(ParsingSettingsStore store, TenantContext tenant, CancellationToken ct) =>
        TypedResults.Ok(await store.GetCurrentAsync(tenant.TenantId!.Value, ct));

    public static async Task<Results<Ok<ParsingSettings>, ProblemHttpResult>> PutParsingAsync(
        ParsingSettings settings, ParsingSettingsStore store, TenantContext tenant, HttpContext http, CancellationToken ct)
    {
        var errors = ParsingSettingsStore.Validate(settings);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["settings"] = errors.ToArray() }).ToHttpResult(http);
        }

        return TypedResults.Ok(await store.SaveAsync(tenant.TenantId!.Value, settings, tenant.UserId, ct));
    }
}
