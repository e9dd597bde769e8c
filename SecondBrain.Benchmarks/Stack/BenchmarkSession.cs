using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using SecondBrain.Core.Identity;

namespace SecondBrain.Benchmarks.Stack;

/// <summary>
/// A signed-up benchmark user whose client always carries a fresh access token: long benchmarks outlive the
/// 15-minute access tokens, so the session signs in again before the token ages out.
/// </summary>
public sealed class BenchmarkSession
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan Renew = TimeSpan.FromMinutes(10);
    private readonly Uri _api;
    private readonly string _email;
    private const string Password = "bench-password-1";
    private HttpClient? _client;
    private DateTimeOffset _issued;

    private BenchmarkSession(Uri api, string email)
    {
        _api = api;
        _email = email;
    }

    public static async Task<BenchmarkSession> SignupAsync(Uri api)
    {
        var session = new BenchmarkSession(api, $"bench-{Guid.NewGuid():N}@example.test");
        using var client = new HttpClient { BaseAddress = api };
        var response = await client.PostAsJsonAsync("api/auth/signup", new SignupRequest("Bench", session._email, Password, "Bench"));
        response.EnsureSuccessStatusCode();
        var signup = (await response.Content.ReadFromJsonAsync<SignupResponse>(Json))!;
        session.Use(signup.Tokens.AccessToken);
        return session;
    }

    public async Task<HttpClient> ClientAsync()
    {
        if (_client is null || DateTimeOffset.UtcNow - _issued > Renew)
        {
            using var anonymous = new HttpClient { BaseAddress = _api };
            var response = await anonymous.PostAsJsonAsync("api/auth/login", new LoginRequest(_email, Password));
            response.EnsureSuccessStatusCode();
            Use((await response.Content.ReadFromJsonAsync<TokenResponse>(Json))!.AccessToken);
        }

        return _client!;
    }

    private void Use(string accessToken)
    {
        _client?.Dispose();
        _client = new HttpClient { BaseAddress = _api, Timeout = TimeSpan.FromMinutes(2) };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        _issued = DateTimeOffset.UtcNow;
    }
}
