using System.Net;
using System.Net.Http.Json;
using SecondBrain.Core.Common;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Identity;
using SecondBrain.Tests.Infrastructure;
using SecondBrain.TestSupport.Stack;

namespace SecondBrain.Tests.Integration;

[Collection(SecondBrainAppCollection.Name)]
public sealed class TenancyAndRolesTests(SecondBrainAppFixture app)
{
    [Fact]
    public async Task Tenant_B_cannot_see_tenant_A_users_on_any_replica()
    {
        var tenantA = await app.Api(0).SignupAsync(tenant: "Tenant A");
        var tenantB = await app.Api(1).SignupAsync(tenant: "Tenant B");

        UserResponse member;
        using (var adminA = app.Api(0).CreateClient(tenantA.Tokens.AccessToken))
        {
            var created = await adminA.PostAsJsonAsync("api/users", new CreateUserRequest(ApiClient.UniqueEmail("member"), "member-password", "Member of A", "member"));
            await created.EnsureStatusAsync(HttpStatusCode.Created);
            member = (await created.Content.ReadFromJsonAsync<UserResponse>(ApiClient.Json))!;
            Assert.Equal(tenantA.Tenant.Id, member.TenantId);
            await (await adminA.GetAsync($"api/users/{member.Id}")).EnsureStatusAsync(HttpStatusCode.OK);
        }

        foreach (var replica in app.ApiReplicas)
        {
            using var adminB = replica.CreateClient(tenantB.Tokens.AccessToken);
            await (await adminB.GetAsync($"api/users/{member.Id}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
            await (await adminB.GetAsync($"api/users/{tenantA.User.Id}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);

            var list = (await adminB.GetFromJsonAsync<PagedResult<UserResponse>>("api/users", ApiClient.Json))!;
            Assert.All(list.Items, u => Assert.Equal(tenantB.Tenant.Id, u.TenantId));
            Assert.Equal(1, list.Total);
        }
    }

    [Fact]
    public async Task A_member_is_forbidden_from_admin_endpoints()
    {
        var tenant = await app.Api(0).SignupAsync();
        var memberEmail = ApiClient.UniqueEmail("member");
        using (var admin = app.Api(0).CreateClient(tenant.Tokens.AccessToken))
        {
            var created = await admin.PostAsJsonAsync("api/users", new CreateUserRequest(memberEmail, "member-password", "Member", null));
            await created.EnsureStatusAsync(HttpStatusCode.Created);
        }

        var login = await app.Api(1).LoginAsync(memberEmail, "member-password");
        var tokens = (await login.Content.ReadFromJsonAsync<TokenResponse>(ApiClient.Json))!;
        using var member = app.Api(2).CreateClient(tokens.AccessToken);
        await (await member.GetAsync("api/admin/instances")).AssertProblemAsync(HttpStatusCode.Forbidden, ProblemCodes.Forbidden);
        await (await member.GetAsync("api/users")).AssertProblemAsync(HttpStatusCode.Forbidden, ProblemCodes.Forbidden);
        await (await member.GetAsync("api/auth/me")).EnsureStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Fleet_endpoints_need_the_operator_role_which_no_tenant_can_grant_or_claim()
    {
        // Every signup is its tenant's admin: that is not enough to see the fleet.
        var tenant = await app.Api(0).SignupAsync();
        using (var admin = app.Api(1).CreateClient(tenant.Tokens.AccessToken))
        {
            await (await admin.GetAsync("api/admin/instances")).AssertProblemAsync(HttpStatusCode.Forbidden, ProblemCodes.Forbidden);

            // No role a tenant admin can hand out reaches it, and the operator's address cannot be taken by a user.
            var asOperatorRole = await admin.PostAsJsonAsync("api/users", new CreateUserRequest(ApiClient.UniqueEmail("op"), "member-password", "Op", "operator"));
            await asOperatorRole.AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
            var operatorAddress = await admin.PostAsJsonAsync("api/users", new CreateUserRequest(SecondBrainStack.OperatorEmail.ToUpperInvariant(), "member-password", "Op", "admin"));
            await operatorAddress.AssertProblemAsync(HttpStatusCode.Conflict, ProblemCodes.EmailTaken);
        }

        using (var anonymous = app.Api(2).CreateClient())
        {
            var signup = await anonymous.PostAsJsonAsync("api/auth/signup", new SignupRequest("Pretenders", SecondBrainStack.OperatorEmail, "pretender-password", "Pretender"));
            await signup.AssertProblemAsync(HttpStatusCode.Conflict, ProblemCodes.EmailTaken);
        }

        using var operatorClient = app.Api(2).CreateClient(await app.OperatorTokenAsync());
        await (await operatorClient.GetAsync("api/admin/instances")).EnsureStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Every_endpoint_but_the_public_ones_requires_a_token()
    {
        using var anonymous = app.Api(0).CreateClient();
        foreach (var path in new[] { "api/auth/me", "api/users", "api/admin/instances", $"api/users/{Guid.NewGuid()}" })
        {
            await (await anonymous.GetAsync(path)).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);
        }

        await (await anonymous.PostAsync("api/auth/logout", null)).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);

        using var forged = app.Api(1).CreateClient("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl");
        await (await forged.GetAsync("api/auth/me")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);
    }
}
