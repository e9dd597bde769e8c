using Microsoft.AspNetCore.Http.HttpResults;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Common;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Identity;

namespace Microsoft.AspNetCore.Builder;

public static class UsersApi
{
    public static RouteGroupBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/users").WithTags("Users");

        api.MapGet("/", ListUsersAsync)
            .RequireAuthorization(AuthenticationSetup.AdminPolicy)
            .WithName("ListUsers")
            .WithSummary("The users of the caller's tenant (admin).");
        api.MapPost("/", CreateUserAsync)
            .RequireAuthorization(AuthenticationSetup.AdminPolicy)
            .WithName("CreateUser")
            .WithSummary("Add a user to the caller's tenant (admin).");
        api.MapPatch("/{id:guid}", UpdateUserAsync)
            .RequireAuthorization(AuthenticationSetup.AdminPolicy)
            .WithName("UpdateUser")
            .WithSummary("Change a user's role or deactivate / reactivate them (admin); a deactivated user's tokens stop working at once.");
        api.MapGet("/{id:guid}", GetUserAsync)
            .WithName("GetUser")
            .WithSummary("One user of the caller's tenant.");

        return api;
    }

    public static async Task<Ok<PagedResult<UserResponse>>> ListUsersAsync(AuthService auth, CancellationToken ct, int page = 1, int pageSize = 50) =>
        TypedResults.Ok(await auth.ListUsersAsync(new PageRequest(page, pageSize), ct));

    public static async Task<Results<Created<UserResponse>, ProblemHttpResult>> CreateUserAsync(
        CreateUserRequest request, AuthService auth, HttpContext http, CancellationToken ct)
    {
        var outcome = await auth.CreateUserAsync(request, ct);
        return outcome.Succeeded
            ? TypedResults.Created($"/api/users/{outcome.Value!.Id}", outcome.Value)
            : outcome.Problem!.ToHttpResult(http);
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetUserAsync(Guid id, AuthService auth, HttpContext http, CancellationToken ct) =>
        await auth.FindUserAsync(id, ct) is { } user
            ? TypedResults.Ok(user)
            : ApiProblem.NotFound("The user").ToHttpResult(http);

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> UpdateUserAsync(
        Guid id, UpdateUserRequest request, AccountService accounts, HttpContext http, CancellationToken ct)
    {
        var outcome = await accounts.UpdateUserAsync(id, request, ct);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value!) : outcome.Problem!.ToHttpResult(http);
    }
}
