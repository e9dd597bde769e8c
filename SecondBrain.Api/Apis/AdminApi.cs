using Microsoft.AspNetCore.Http.HttpResults;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Common;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Identity;
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

        // The tenant's own trail: for its admins.
        app.MapGroup("/api/admin/audit").WithTags("Admin").RequireAuthorization(AuthenticationSetup.AdminPolicy)
            .MapGet("/", ListAuditAsync)
            .WithName("ListAudit")
            .WithSummary("The tenant's audit trail, newest first (paged; filter by action, e.g. user.deactivated).");

        return api;
    }

    public static async Task<Ok<PagedResult<AuditEntryResponse>>> ListAuditAsync(
        AccountService accounts, CancellationToken ct, int page = 1, int pageSize = 50, string? action = null) =>
        TypedResults.Ok(await accounts.ListAuditAsync(new PageRequest(page, pageSize), action, ct));

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
