using Microsoft.AspNetCore.Http.HttpResults;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Errors;
using SecondBrain.ServiceDefaults.Telemetry;

namespace Microsoft.AspNetCore.Builder;

public sealed record InstancesResponse(int Count, IReadOnlyList<InstanceHeartbeat> Instances);

public static class AdminApi
{
    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        // Fleet-wide: every machine name, pid and address, so operators only (a tenant admin gets 403).
        var api = app.MapGroup("/api/admin").WithTags("Admin").RequireAuthorization(AuthenticationSetup.OperatorPolicy);

        api.MapGet("/instances", ListInstancesAsync)
            .WithName("ListInstances")
            .WithSummary("Live Api and Worker instances, from their Redis heartbeats, with memory and cache figures.");

        return api;
    }

    public static async Task<Results<Ok<InstancesResponse>, ProblemHttpResult>> ListInstancesAsync(
        IServiceProvider services, HttpContext http, CancellationToken ct)
    {
        if (services.GetService<InstanceDirectory>() is not { } directory)
        {
            return new ApiProblem(503, ProblemCodes.ServiceUnavailable, "No Redis connection is configured, so instances cannot be listed.").ToHttpResult(http);
        }

        var instances = await directory.ListAsync(ct);
        return TypedResults.Ok(new InstancesResponse(instances.Count, instances));
    }
}
