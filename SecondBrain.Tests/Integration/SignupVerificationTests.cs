using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using MimeKit;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Identity;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// Sign-up confirmed by mail, so no answer tells a caller whether an address is registered: a new and a registered
/// address get the same 202 and body, in about the same time; only the mailbox learns which it was. The mailed link
/// creates the tenant once, on any replica.
/// </summary>
[Collection(SignupVerificationCollection.Name)]
public sealed partial class SignupVerificationTests(SignupVerificationFixture app)
{
    private const string Password = "confirmed-password";

    [Fact]
    public async Task Sign_up_creates_nothing_until_the_mailed_link_is_followed_once()
    {
        var email = ApiClient.UniqueEmail("newcomer");
        using var anonymous = app.Api(0).CreateClient();
        var response = await anonymous.PostAsJsonAsync("api/auth/signup", new SignupRequest("Confirmed Co", email, Password, "Newcomer"));
        await response.EnsureStatusAsync(HttpStatusCode.Accepted);
        var pending = (await response.Content.ReadFromJsonAsync<SignupPendingResponse>(ApiClient.Json))!;
        Assert.Equal(email, pending.Email);

        // Nothing exists yet: the address cannot sign in.
        await (await app.Api(1).LoginAsync(email, Password)).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidCredentials);

        var token = TokenFrom(await WaitForMailAsync(email, "Confirm your SecondBrain sign-up"));
        using var other = app.Api(1).CreateClient();
        await (await other.PostAsJsonAsync("api/auth/signup/confirm", new SignupConfirmRequest("made-up"))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.InvalidSignupToken);

        // Two confirmations at once (a double click, two tabs): one creates the tenant, the other is refused.
        var confirmations = await Task.WhenAll(
            other.PostAsJsonAsync("api/auth/signup/confirm", new SignupConfirmRequest(token)),
            anonymous.PostAsJsonAsync("api/auth/signup/confirm", new SignupConfirmRequest(token)));
        var created = Assert.Single(confirmations, r => r.StatusCode == HttpStatusCode.Created);
        await Assert.Single(confirmations, r => r.StatusCode != HttpStatusCode.Created).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.InvalidSignupToken);

        var signup = (await created.Content.ReadFromJsonAsync<SignupResponse>(ApiClient.Json))!;
        Assert.Equal("Confirmed Co", signup.Tenant.Name);
        Assert.Equal(Roles.Admin, signup.User.Role);
        using (var me = app.Api(0).CreateClient(signup.Tokens.AccessToken))
        {
            await (await me.GetAsync("api/auth/me")).EnsureStatusAsync(HttpStatusCode.OK);
        }

        await (await app.Api(0).LoginAsync(email, Password)).EnsureStatusAsync(HttpStatusCode.OK);
        await (await other.PostAsJsonAsync("api/auth/signup/confirm", new SignupConfirmRequest(token))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.InvalidSignupToken);
    }

    [Fact]
    public async Task A_registered_address_gets_the_same_answer_in_the_same_time_and_only_its_mailbox_learns_more()
    {
        var registered = ApiClient.UniqueEmail("registered");
        await SignUpAndConfirmAsync(registered);

        using var attacker = app.Api(1).CreateClient();
        var known = await attacker.PostAsJsonAsync("api/auth/signup", new SignupRequest("Probe", registered, "probing-password", "Probe"));
        var unknownEmail = ApiClient.UniqueEmail("unregistered");
        var unknown = await attacker.PostAsJsonAsync("api/auth/signup", new SignupRequest("Probe", unknownEmail, "probing-password", "Probe"));
        Assert.Equal(unknown.StatusCode, known.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, known.StatusCode);
        var knownBody = (await known.Content.ReadFromJsonAsync<SignupPendingResponse>(ApiClient.Json))!;
        var unknownBody = (await unknown.Content.ReadFromJsonAsync<SignupPendingResponse>(ApiClient.Json))!;
        Assert.Equal(unknownBody.Message, knownBody.Message);

        // Time: both hash the password and write one mail; medians of a few tries stay within a factor of two.
        var knownTimes = new List<double>();
        var unknownTimes = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            knownTimes.Add(await TimeSignupAsync(attacker, registered));
            unknownTimes.Add(await TimeSignupAsync(attacker, ApiClient.UniqueEmail("unregistered")));
        }

        var ratio = Median(knownTimes) / Median(unknownTimes);
        Assert.InRange(ratio, 0.5, 2.0);

        // The owner is told, the account is untouched (same password, no new tenant for the prober).
        var note = await WaitForMailAsync(registered, "You already have a SecondBrain account");
        Assert.Contains("http://frontend.test/reset-password", note.TextBody);
        await (await app.Api(0).LoginAsync(registered, Password)).EnsureStatusAsync(HttpStatusCode.OK);
        await (await app.Api(0).LoginAsync(registered, "probing-password")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.InvalidCredentials);
        // Only the owner's own sign-up ever mailed it a confirmation link; the probes did not.
        Assert.Single(app.Mail.Received, m => m.Subject == "Confirm your SecondBrain sign-up" && m.To.Mailboxes.Any(b => b.Address == registered));
        await (await attacker.PostAsJsonAsync("api/auth/signup", new SignupRequest("", "not an address", "x", ""))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
    }

    private async Task SignUpAndConfirmAsync(string email)
    {
        using var client = app.Api(0).CreateClient();
        await (await client.PostAsJsonAsync("api/auth/signup", new SignupRequest("Owner Co", email, Password, "Owner"))).EnsureStatusAsync(HttpStatusCode.Accepted);
        var token = TokenFrom(await WaitForMailAsync(email, "Confirm your SecondBrain sign-up"));
        await (await client.PostAsJsonAsync("api/auth/signup/confirm", new SignupConfirmRequest(token))).EnsureStatusAsync(HttpStatusCode.Created);
    }

    private static async Task<double> TimeSignupAsync(HttpClient client, string email)
    {
        var clock = Stopwatch.StartNew();
        var response = await client.PostAsJsonAsync("api/auth/signup", new SignupRequest("Probe", email, "probing-password", "Probe"));
        clock.Stop();
        await response.EnsureStatusAsync(HttpStatusCode.Accepted);
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private async Task<MimeMessage> WaitForMailAsync(string to, string subject)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (app.Mail.Received.FirstOrDefault(m => m.Subject == subject && m.To.Mailboxes.Any(b => string.Equals(b.Address, to, StringComparison.OrdinalIgnoreCase))) is { } mail)
            {
                return mail;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"No mail '{subject}' reached {to} within 60 s.");
    }

    private static string TokenFrom(MimeMessage mail) =>
        Uri.UnescapeDataString(ConfirmLink().Match(mail.TextBody ?? "").Groups["token"].Value);

    [GeneratedRegex(@"http://frontend\.test/confirm-signup\?token=(?<token>[A-Za-z0-9_\-%]+)")]
    private static partial Regex ConfirmLink();
}
