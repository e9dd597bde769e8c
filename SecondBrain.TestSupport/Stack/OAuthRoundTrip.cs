using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using SecondBrain.Core.Integrations;

namespace SecondBrain.TestSupport.Stack;

/// <summary>
/// A whole OAuth connect as a person's browser and the front end make it: connect (signed in) on one replica, the
/// provider's redirect to the callback on another, and the front end's authenticated completion with the code and
/// state it was handed. For benchmarks; the tests drive the steps one by one.
/// </summary>
public static class OAuthRoundTrip
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Null when connected, else the error code the front end would show.</summary>
    public static async Task<string?> ConnectAsync(Uri connectOn, Uri callbackOn, string accessToken, string provider, Func<string> issueCode)
    {
        using var client = new HttpClient { BaseAddress = connectOn, Timeout = TimeSpan.FromSeconds(100) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        var connect = await client.PostAsync($"api/integrations/{provider}/connect", null);
        if (!connect.IsSuccessStatusCode)
        {
            return $"connect_{(int)connect.StatusCode}";
        }

        var authorize = (await connect.Content.ReadFromJsonAsync<ConnectResponse>(Json))!.AuthorizeUrl;
        var state = QueryHelpers.ParseQuery(authorize.Query)["state"].ToString();
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = callbackOn };
        var callback = await browser.GetAsync($"api/integrations/{provider}/callback?code={Uri.EscapeDataString(issueCode())}&state={Uri.EscapeDataString(state)}");
        if (callback.StatusCode != HttpStatusCode.Redirect || callback.Headers.Location is not { } forwarded)
        {
            return $"callback_{(int)callback.StatusCode}";
        }

        var query = QueryHelpers.ParseQuery(forwarded.Query);
        if (query.TryGetValue("error", out var error))
        {
            return error.ToString();
        }

        using var frontEnd = new HttpClient { BaseAddress = callbackOn, Timeout = TimeSpan.FromSeconds(100) };
        frontEnd.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        var completed = await frontEnd.PostAsJsonAsync($"api/integrations/{provider}/complete",
            new CompleteConnectionRequest(query["code"].ToString(), query["state"].ToString()));
        if (completed.IsSuccessStatusCode)
        {
            return null;
        }

        var problem = await completed.Content.ReadFromJsonAsync<JsonElement>(Json);
        return problem.TryGetProperty("code", out var code) ? code.GetString() : $"complete_{(int)completed.StatusCode}";
    }
}
