using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SecondBrain.Core.Errors;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

[Collection(SecondBrainAppCollection.Name)]
public sealed class ApiConventionsTests(SecondBrainAppFixture app)
{
    [Fact]
    public async Task Invalid_signup_is_a_validation_problem_naming_each_field()
    {
        using var client = app.Api(0).CreateClient();
        var response = await client.PostAsJsonAsync("api/auth/signup", new { tenantName = "", email = "not-an-email", password = "short" });
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        var errors = problem.GetProperty("errors");
        foreach (var field in new[] { "tenantName", "email", "password", "displayName" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"errors names {field}");
        }
    }

    [Fact]
    public async Task Malformed_json_is_a_bad_request_problem()
    {
        using var client = app.Api(1).CreateClient();
        var response = await client.PostAsync("api/auth/login", new StringContent("{ not json", Encoding.UTF8, "application/json"));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.BadRequest);
    }

    [Fact]
    public async Task An_oversized_body_is_413_with_a_stable_code()
    {
        using var client = app.Api(2).CreateClient();
        var huge = new string('x', 2 * 1024 * 1024);
        // Expect: 100-continue, as a careful client sends large bodies: the server refuses before the upload.
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/auth/login")
        {
            Content = new StringContent($"{{\"email\":\"{huge}\"}}", Encoding.UTF8, "application/json")
        };
        request.Headers.ExpectContinue = true;
        var response = await client.SendAsync(request);
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, ProblemCodes.RequestTooLarge);
    }

    [Fact]
    public async Task Unknown_routes_and_methods_are_problems_too()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(0).CreateClient(tenant.Tokens.AccessToken);
        await (await client.GetAsync("api/no-such-thing")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await client.GetAsync($"api/users/{Guid.NewGuid()}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await client.DeleteAsync("api/auth/me")).AssertProblemAsync(HttpStatusCode.MethodNotAllowed, ProblemCodes.MethodNotAllowed);
    }

    [Fact]
    public async Task OpenApi_document_and_browser_are_served_anonymously()
    {
        using var client = app.Api(1).CreateClient();
        var document = await client.GetFromJsonAsync<JsonElement>("openapi/v1.json");
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/api/auth/signup", "/api/auth/login", "/api/auth/refresh", "/api/auth/logout", "/api/auth/me", "/api/admin/instances" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"OpenAPI documents {path}");
        }

        var ui = await client.GetAsync("scalar");
        await ui.EnsureStatusAsync(HttpStatusCode.OK);
        Assert.Equal("text/html", ui.Content.Headers.ContentType?.MediaType);
    }
}
