using System.Net;
using System.Net.Http.Json;
using SecondBrain.Core.Auditing;
using SecondBrain.Core.Common;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Identity;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// The account lifecycle across replicas: what one instance ends (a session, a password, an account) stops working on
/// every other at once, and each step is in the tenant's audit trail.
/// </summary>
[Collection(SecondBrainAppCollection.Name)]
public sealed class AccountLifecycleTests(SecondBrainAppFixture app)
{
    private const string Password = "first-password-1";

    [Fact]
    public async Task Changing_the_password_ends_the_other_sessions_on_every_replica_and_keeps_this_one()
    {
        var email = ApiClient.UniqueEmail("pw");
        var signup = await app.Api(0).SignupAsync(email, Password);
        var other = await LoginAsync(1, email, Password);
        using (var otherClient = app.Api(2).CreateClient(other.AccessToken))
        {
            await (await otherClient.GetAsync("api/auth/me")).EnsureStatusAsync(HttpStatusCode.OK);
        }

        using var mine = app.Api(0).CreateClient(signup.Tokens.AccessToken);
        var wrong = await mine.PostAsJsonAsync("api/auth/password", new ChangePasswordRequest("not-my-password", "second-password-2"));
        await wrong.AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        var weak = await mine.PostAsJsonAsync("api/auth/password", new ChangePasswordRequest(Password, "short"));
        await weak.AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await mine.PostAsJsonAsync("api/auth/password", new ChangePasswordRequest(Password, "second-password-2"))).EnsureStatusAsync(HttpStatusCode.NoContent);

        // The other session is over everywhere, access and refresh token alike; this one goes on.
        for (var i = 0; i < app.ApiReplicas.Count; i++)
        {
            using var otherClient = app.Api(i).CreateClient(other.AccessToken);
            await (await otherClient.GetAsync("api/auth/me")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);
        }

        await (await app.Api(1).RefreshAsync(other.RefreshToken)).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidRefreshToken);
        await (await mine.GetAsync("api/auth/me")).EnsureStatusAsync(HttpStatusCode.OK);
        await (await app.Api(2).RefreshAsync(signup.Tokens.RefreshToken)).EnsureStatusAsync(HttpStatusCode.OK);

        await (await app.Api(1).LoginAsync(email, Password)).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidCredentials);
        await (await app.Api(2).LoginAsync(email, "second-password-2")).EnsureStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_person_lists_their_sessions_and_ends_one_which_stops_working_everywhere()
    {
        var email = ApiClient.UniqueEmail("sessions");
        var signup = await app.Api(0).SignupAsync(email, Password);
        var laptop = await LoginAsync(1, email, Password);
        var phone = await LoginAsync(2, email, Password);

        using var mine = app.Api(0).CreateClient(signup.Tokens.AccessToken);
        var sessions = (await mine.GetFromJsonAsync<List<SessionResponse>>("api/auth/sessions", ApiClient.Json))!;
        Assert.Equal(3, sessions.Count);
        Assert.Single(sessions, s => s.Current);

        // Which one is the phone: the session the phone's token lists as current.
        using var phoneClient = app.Api(1).CreateClient(phone.AccessToken);
        var phoneSession = (await phoneClient.GetFromJsonAsync<List<SessionResponse>>("api/auth/sessions", ApiClient.Json))!.Single(s => s.Current);

        await (await mine.DeleteAsync($"api/auth/sessions/{phoneSession.Id}")).EnsureStatusAsync(HttpStatusCode.NoContent);
        for (var i = 0; i < app.ApiReplicas.Count; i++)
        {
            using var client = app.Api(i).CreateClient(phone.AccessToken);
            await (await client.GetAsync("api/auth/me")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);
        }

        await (await app.Api(0).RefreshAsync(phone.RefreshToken)).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidRefreshToken);
        using (var laptopClient = app.Api(2).CreateClient(laptop.AccessToken))
        {
            await (await laptopClient.GetAsync("api/auth/me")).EnsureStatusAsync(HttpStatusCode.OK);
        }

        Assert.Equal(2, (await mine.GetFromJsonAsync<List<SessionResponse>>("api/auth/sessions", ApiClient.Json))!.Count);
        await (await mine.DeleteAsync($"api/auth/sessions/{phoneSession.Id}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);

        // Someone else's session is not theirs to end, even by id.
        var stranger = await app.Api(1).SignupAsync();
        using var strangerClient = app.Api(1).CreateClient(stranger.Tokens.AccessToken);
        var laptopSession = sessions.First(s => !s.Current && s.Id != phoneSession.Id);
        await (await strangerClient.DeleteAsync($"api/auth/sessions/{laptopSession.Id}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
    }

    [Fact]
    public async Task An_admin_deactivates_a_user_whose_tokens_stop_at_once_changes_roles_and_the_audit_trail_shows_it()
    {
        var admin = await app.Api(0).SignupAsync();
        using var adminClient = app.Api(0).CreateClient(admin.Tokens.AccessToken);
        var memberEmail = ApiClient.UniqueEmail("member");
        var created = await adminClient.PostAsJsonAsync("api/users", new CreateUserRequest(memberEmail, Password, "Member", null));
        await created.EnsureStatusAsync(HttpStatusCode.Created);
        var member = (await created.Content.ReadFromJsonAsync<UserResponse>(ApiClient.Json))!;
        var memberTokens = await LoginAsync(1, memberEmail, Password);

        // A member may not change users; an admin may not lock themselves out.
        using (var memberClient = app.Api(2).CreateClient(memberTokens.AccessToken))
        {
            await (await memberClient.PatchAsJsonAsync($"api/users/{member.Id}", new UpdateUserRequest("admin", null))).AssertProblemAsync(HttpStatusCode.Forbidden, ProblemCodes.Forbidden);
        }

        await (await adminClient.PatchAsJsonAsync($"api/users/{admin.User.Id}", new UpdateUserRequest(null, false))).AssertProblemAsync(HttpStatusCode.Conflict, ProblemCodes.LastAdmin);
        await (await adminClient.PatchAsJsonAsync($"api/users/{member.Id}", new UpdateUserRequest("owner", null))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await adminClient.PatchAsJsonAsync($"api/users/{Guid.NewGuid()}", new UpdateUserRequest(null, false))).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);

        // Promoted: the token in hand is stale (its role is the old one); the refreshed one carries the new role.
        await (await adminClient.PatchAsJsonAsync($"api/users/{member.Id}", new UpdateUserRequest("admin", null))).EnsureStatusAsync(HttpStatusCode.OK);
        using (var stale = app.Api(2).CreateClient(memberTokens.AccessToken))
        {
            await (await stale.GetAsync("api/users")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);
        }

        var refreshed = (await (await app.Api(1).RefreshAsync(memberTokens.RefreshToken)).Content.ReadFromJsonAsync<TokenResponse>(ApiClient.Json))!;
        using (var promoted = app.Api(2).CreateClient(refreshed.AccessToken))
        {
            await (await promoted.GetAsync("api/users")).EnsureStatusAsync(HttpStatusCode.OK);
        }

        // Deactivated on one replica: the token stops on every replica, login and refresh are refused.
        var deactivated = await adminClient.PatchAsJsonAsync($"api/users/{member.Id}", new UpdateUserRequest("member", false));
        await deactivated.EnsureStatusAsync(HttpStatusCode.OK);
        Assert.False((await deactivated.Content.ReadFromJsonAsync<UserResponse>(ApiClient.Json))!.Active);
        for (var i = 0; i < app.ApiReplicas.Count; i++)
        {
            using var client = app.Api(i).CreateClient(refreshed.AccessToken);
            await (await client.GetAsync("api/auth/me")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);
        }

        await (await app.Api(1).RefreshAsync(refreshed.RefreshToken)).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidRefreshToken);
        await (await app.Api(2).LoginAsync(memberEmail, Password)).AssertProblemAsync(HttpStatusCode.Forbidden, ProblemCodes.AccountDeactivated);
        await (await app.Api(2).LoginAsync(memberEmail, "a-wrong-password")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidCredentials);

        await (await adminClient.PatchAsJsonAsync($"api/users/{member.Id}", new UpdateUserRequest(null, true))).EnsureStatusAsync(HttpStatusCode.OK);
        await (await app.Api(0).LoginAsync(memberEmail, Password)).EnsureStatusAsync(HttpStatusCode.OK);

        // Every step is in the tenant's trail, which only its admins read.
        var trail = (await adminClient.GetFromJsonAsync<PagedResult<AuditEntryResponse>>("api/admin/audit?pageSize=200", ApiClient.Json))!;
        foreach (var action in new[] { AuditActions.RoleChanged, AuditActions.UserDeactivated, AuditActions.UserReactivated, AuditActions.UserCreated })
        {
            Assert.Contains(trail.Items, e => e.Action == action && e.Target == member.Id.ToString() && e.ActorUserId == admin.User.Id);
        }

        var onlyDeactivations = (await adminClient.GetFromJsonAsync<PagedResult<AuditEntryResponse>>($"api/admin/audit?action={AuditActions.UserDeactivated}", ApiClient.Json))!;
        Assert.All(onlyDeactivations.Items, e => Assert.Equal(AuditActions.UserDeactivated, e.Action));
        var memberAgain = await LoginAsync(1, memberEmail, Password);
        using var memberReader = app.Api(1).CreateClient(memberAgain.AccessToken);
        await (await memberReader.GetAsync("api/admin/audit")).AssertProblemAsync(HttpStatusCode.Forbidden, ProblemCodes.Forbidden);
    }

    private async Task<TokenResponse> LoginAsync(int replica, string email, string password)
    {
        var response = await app.Api(replica).LoginAsync(email, password);
        await response.EnsureStatusAsync(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<TokenResponse>(ApiClient.Json))!;
    }
}
