using System.Net;
using System.Net.Http.Json;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Identity;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

[Collection(SecondBrainAppCollection.Name)]
public sealed class IdentityAcrossReplicasTests(SecondBrainAppFixture app)
{
    [Fact]
    public async Task Signup_on_one_replica_login_on_another_and_the_token_works_on_the_first()
    {
        var (a, b) = (app.Api(0), app.Api(1));
        var email = ApiClient.UniqueEmail();
        var signup = await a.SignupAsync(email, "first-password-1");

        var login = await b.LoginAsync(email, "first-password-1");
        await login.EnsureStatusAsync(HttpStatusCode.OK);
        Assert.Equal(b.InstanceId, login.InstanceId());
        var tokens = (await login.Content.ReadFromJsonAsync<TokenResponse>(ApiClient.Json))!;

        using var onA = a.CreateClient(tokens.AccessToken);
        var me = await onA.GetAsync("api/auth/me");
        await me.EnsureStatusAsync(HttpStatusCode.OK);
        Assert.Equal(a.InstanceId, me.InstanceId());
        var body = (await me.Content.ReadFromJsonAsync<MeResponse>(ApiClient.Json))!;
        Assert.Equal(signup.User.Id, body.User.Id);
        Assert.Equal(signup.Tenant.Id, body.Tenant.Id);
        Assert.Equal(Roles.Admin, body.User.Role);
    }

    [Fact]
    public async Task Refresh_rotates_across_replicas_and_reuse_of_a_rotated_token_revokes_the_family()
    {
        var signup = await app.Api(0).SignupAsync();
        var first = signup.Tokens.RefreshToken;

        var rotated = await app.Api(1).RefreshAsync(first);
        await rotated.EnsureStatusAsync(HttpStatusCode.OK);
        var second = (await rotated.Content.ReadFromJsonAsync<TokenResponse>(ApiClient.Json))!;
        Assert.NotEqual(first, second.RefreshToken);

        // The new access token works on yet another replica.
        using (var onC = app.Api(2).CreateClient(second.AccessToken))
        {
            await (await onC.GetAsync("api/auth/me")).EnsureStatusAsync(HttpStatusCode.OK);
        }

        // Presenting the already-rotated token again (on a third replica) is reuse: refused, family revoked.
        await (await app.Api(2).RefreshAsync(first)).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.RefreshTokenReused);

        // So the legitimate-looking newer token of the same family no longer works either.
        await (await app.Api(0).RefreshAsync(second.RefreshToken)).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidRefreshToken);
    }

    [Fact]
    public async Task The_same_refresh_token_presented_to_two_replicas_at_once_is_honoured_once()
    {
        var signup = await app.Api(0).SignupAsync();
        var attempts = await Task.WhenAll(
            app.Api(1).RefreshAsync(signup.Tokens.RefreshToken),
            app.Api(2).RefreshAsync(signup.Tokens.RefreshToken));

        Assert.Equal(1, attempts.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(1, attempts.Count(r => r.StatusCode == HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task Failed_logins_are_counted_across_replicas()
    {
        var email = ApiClient.UniqueEmail();
        await app.Api(0).SignupAsync(email, "the-right-password");

        // Five failures, spread over all replicas: each replica alone saw fewer than the limit.
        for (var i = 0; i < 5; i++)
        {
            var failed = await app.Api(i).LoginAsync(email, "wrong-password-" + i);
            await failed.AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidCredentials);
        }

        // Now every replica refuses, even the right password, and says when to come back.
        for (var i = 0; i < app.ApiReplicas.Count; i++)
        {
            var throttled = await app.Api(i).LoginAsync(email, "the-right-password");
            await throttled.AssertProblemAsync(HttpStatusCode.TooManyRequests, ProblemCodes.LoginThrottled);
            Assert.NotNull(throttled.Headers.RetryAfter);
        }

        // Another account is unaffected.
        var other = ApiClient.UniqueEmail();
        await app.Api(1).SignupAsync(other, "other-password-1");
        await (await app.Api(2).LoginAsync(other, "other-password-1")).EnsureStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Logout_on_one_replica_revokes_the_access_and_refresh_tokens_on_every_replica()
    {
        var signup = await app.Api(0).SignupAsync();
        using (var onA = app.Api(0).CreateClient(signup.Tokens.AccessToken))
        {
            var logout = await onA.PostAsJsonAsync("api/auth/logout", new LogoutRequest(signup.Tokens.RefreshToken));
            await logout.EnsureStatusAsync(HttpStatusCode.NoContent);
        }

        using var onB = app.Api(1).CreateClient(signup.Tokens.AccessToken);
        await (await onB.GetAsync("api/auth/me")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);
        await (await app.Api(2).RefreshAsync(signup.Tokens.RefreshToken)).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidRefreshToken);
    }

    [Fact]
    public async Task Unknown_refresh_token_and_wrong_password_are_rejected_with_stable_codes()
    {
        await (await app.Api(0).RefreshAsync("not-a-real-token")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidRefreshToken);
        await (await app.Api(1).LoginAsync(ApiClient.UniqueEmail("nobody"), "whatever-password")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidCredentials);
    }

    [Fact]
    public async Task Signup_with_an_e_mail_already_in_use_conflicts()
    {
        var email = ApiClient.UniqueEmail();
        await app.Api(0).SignupAsync(email);
        using var client = app.Api(1).CreateClient();
        var again = await client.PostAsJsonAsync("api/auth/signup", new SignupRequest("Other", email.ToUpperInvariant(), "another-password", "Someone"));
        await again.AssertProblemAsync(HttpStatusCode.Conflict, ProblemCodes.EmailTaken);
    }
}
