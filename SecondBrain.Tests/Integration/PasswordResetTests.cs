using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Identity;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// Password reset by e-mail through the real stack: the mail goes through the outbox (a Worker sends it over SMTP
/// to the stand-in mail server), the link works once, and a mail server outage delays the mail without losing it.
/// </summary>
[Collection(SecondBrainAppCollection.Name)]
public sealed partial class PasswordResetTests(SecondBrainAppFixture app)
{
    [Fact]
    public async Task A_reset_mails_a_single_use_link_that_sets_the_password_and_ends_every_session()
    {
        var email = ApiClient.UniqueEmail("forgetful");
        var signup = await app.Api(0).SignupAsync(email, "the-old-password");
        var elsewhere = (await (await app.Api(1).LoginAsync(email, "the-old-password")).Content.ReadFromJsonAsync<TokenResponse>(ApiClient.Json))!;

        using var anonymous = app.Api(2).CreateClient();
        await (await anonymous.PostAsJsonAsync("api/auth/password-reset", new PasswordResetRequest(email.ToUpperInvariant()))).EnsureStatusAsync(HttpStatusCode.Accepted);
        // An address nobody has gets the same answer, and no mail.
        var nobody = ApiClient.UniqueEmail("nobody");
        await (await anonymous.PostAsJsonAsync("api/auth/password-reset", new PasswordResetRequest(nobody))).EnsureStatusAsync(HttpStatusCode.Accepted);
        await (await anonymous.PostAsJsonAsync("api/auth/password-reset", new PasswordResetRequest("not an address"))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);

        // Asked for by someone signed in to another tenant: the same answer, and the mail still goes to the owner.
        var stranger = await app.Api(1).SignupAsync();
        using (var signedIn = app.Api(1).CreateClient(stranger.Tokens.AccessToken))
        {
            await (await signedIn.PostAsJsonAsync("api/auth/password-reset", new PasswordResetRequest(email))).EnsureStatusAsync(HttpStatusCode.Accepted);
        }

        var mail = await app.Mail.WaitForMessageToAsync(email, TimeSpan.FromSeconds(60));
        var token = Uri.UnescapeDataString(ResetLink().Match(mail.TextBody ?? "").Groups["token"].Value);
        Assert.False(string.IsNullOrEmpty(token), $"the mail carries a reset link: {mail.TextBody}");
        Assert.StartsWith("http://frontend.test/reset-password?token=", ResetLink().Match(mail.TextBody ?? "").Value);

        using var confirmOn = app.Api(0).CreateClient();
        await (await confirmOn.PostAsJsonAsync("api/auth/password-reset/confirm", new PasswordResetConfirmRequest(token, "short"))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await confirmOn.PostAsJsonAsync("api/auth/password-reset/confirm", new PasswordResetConfirmRequest("made-up-token", "the-new-password"))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.InvalidResetToken);
        await (await confirmOn.PostAsJsonAsync("api/auth/password-reset/confirm", new PasswordResetConfirmRequest(token, "the-new-password"))).EnsureStatusAsync(HttpStatusCode.NoContent);
        using var again = app.Api(1).CreateClient();
        await (await again.PostAsJsonAsync("api/auth/password-reset/confirm", new PasswordResetConfirmRequest(token, "a-third-password"))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.InvalidResetToken);

        // Every session ended, on every replica; only the new password signs in.
        foreach (var access in new[] { signup.Tokens.AccessToken, elsewhere.AccessToken })
        {
            for (var i = 0; i < app.ApiReplicas.Count; i++)
            {
                using var client = app.Api(i).CreateClient(access);
                await (await client.GetAsync("api/auth/me")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);
            }
        }

        await (await app.Api(2).RefreshAsync(elsewhere.RefreshToken)).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidRefreshToken);
        await (await app.Api(0).LoginAsync(email, "the-old-password")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidCredentials);
        await (await app.Api(1).LoginAsync(email, "the-new-password")).EnsureStatusAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(app.Mail.Received, m => m.To.Mailboxes.Any(b => b.Address == nobody));
    }

    [Fact]
    public async Task A_mail_server_outage_delays_the_reset_mail_and_loses_nothing()
    {
        var email = ApiClient.UniqueEmail("patient");
        await app.Api(0).SignupAsync(email, "patient-password");
        app.Mail.Stop();
        try
        {
            using var client = app.Api(1).CreateClient();
            await (await client.PostAsJsonAsync("api/auth/password-reset", new PasswordResetRequest(email))).EnsureStatusAsync(HttpStatusCode.Accepted);
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.DoesNotContain(app.Mail.Received, m => m.To.Mailboxes.Any(b => b.Address == email));
        }
        finally
        {
            app.Mail.Start();
        }

        // Handed back without counting an attempt, it is sent once the server answers again.
        var mail = await app.Mail.WaitForMessageToAsync(email, TimeSpan.FromSeconds(90));
        Assert.Matches(ResetLink(), mail.TextBody ?? "");
    }

    [GeneratedRegex(@"http://frontend\.test/reset-password\?token=(?<token>[A-Za-z0-9_\-%]+)")]
    private static partial Regex ResetLink();
}
