using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using SecondBrain.Core.Identity;

namespace SecondBrain.Tests.Infrastructure;

/// <summary>Small helpers for calling one replica as a given user.</summary>
public static class ApiClient
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string UniqueEmail(string prefix = "user") => $"{prefix}-{Guid.NewGuid():N}@example.test";

    public static async Task<SignupResponse> SignupAsync(this Replica replica, string? email = null, string password = "correct-horse-battery", string tenant = "Test tenant")
    {
        using var client = replica.CreateClient();
        var response = await client.PostAsJsonAsync("api/auth/signup",
            new SignupRequest(tenant, email ?? UniqueEmail("admin"), password, "Test Admin"));
        await response.EnsureStatusAsync(HttpStatusCode.Created);
        return (await response.Content.ReadFromJsonAsync<SignupResponse>(Json))!;
    }

    public static async Task<HttpResponseMessage> LoginAsync(this Replica replica, string email, string password)
    {
        using var client = replica.CreateClient();
        return await client.PostAsJsonAsync("api/auth/login", new LoginRequest(email, password));
    }

    public static async Task<HttpResponseMessage> RefreshAsync(this Replica replica, string refreshToken)
    {
        using var client = replica.CreateClient();
        return await client.PostAsJsonAsync("api/auth/refresh", new RefreshRequest(refreshToken));
    }

    public static HttpClient CreateClient(this Replica replica, string accessToken)
    {
        var client = replica.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }

    public static async Task EnsureStatusAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.Fail($"Expected {(int)expected} {expected} but got {(int)response.StatusCode} {response.StatusCode}: {body}");
        }
    }

    /// <summary>Asserts an RFC 7807 response with the given status and stable code.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        await response.EnsureStatusAsync(status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.True(problem.TryGetProperty("title", out _), "problem details carry a title");
        return problem;
    }

    public static string? InstanceId(this HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-SecondBrain-Instance", out var values) ? values.FirstOrDefault() : null;
}
/// <summary>A fact that needs ../shared/datasets: skipped, saying why, when they are absent.</summary>
public sealed class DatasetFactAttribute : FactAttribute
{
    public DatasetFactAttribute()
    {
        if (Datasets.Root is null)
        {
            Skip = "The shared datasets are not here (../shared/datasets or SECONDBRAIN_DATASETS); this test needs real data.";
        }
    }
}
