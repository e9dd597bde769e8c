using System.Net;
using System.Net.Http.Json;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Identity;
using SecondBrain.Core.Search;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>Personal API keys across replicas: shown once, scoped, unable to mint more, revocable everywhere at once.</summary>
[Collection(SecondBrainAppCollection.Name)]
public sealed class ApiKeysTests(SecondBrainAppFixture app)
{
    [Fact]
    public async Task A_key_acts_as_its_user_within_its_scopes_and_stops_on_every_replica_when_revoked()
    {
        var owner = await app.Api(0).SignupAsync();
        using var person = app.Api(0).CreateClient(owner.Tokens.AccessToken);

        var readKey = await CreateAsync(person, new CreateApiKeyRequest("reporting script", null, 30));
        var writeKey = await CreateAsync(person, new CreateApiKeyRequest("upload bot", ["read", "write"], null));
        Assert.StartsWith(ApiKeyService.KeyPrefix, readKey.Key);
        Assert.Equal(["read"], readKey.ApiKey.Scopes);
        Assert.NotNull(readKey.ApiKey.ExpiresAt);

        // Listed without the key itself.
        var listed = await person.GetStringAsync("api/auth/api-keys");
        Assert.DoesNotContain(readKey.Key, listed);
        Assert.Contains(readKey.ApiKey.Prefix, listed);

        // A read key reads (search included) on any replica, as its user, and may not write.
        using (var reader = app.Api(1).CreateClient(readKey.Key))
        {
            var me = (await reader.GetFromJsonAsync<MeResponse>("api/auth/me", ApiClient.Json))!;
            Assert.Equal(owner.User.Id, me.User.Id);
            await (await reader.GetAsync("api/documents")).EnsureStatusAsync(HttpStatusCode.OK);
            await (await reader.PostAsJsonAsync("api/search", new SearchRequest("anything", SearchModes.Keyword))).EnsureStatusAsync(HttpStatusCode.OK);
            var write = await reader.PostAsJsonAsync("api/documents", new TextDocumentRequest("Note", "Written by a read key.", null, null));
            await write.AssertProblemAsync(HttpStatusCode.Forbidden, ProblemCodes.InsufficientScope);
        }

        // A write key writes; no key manages keys, sessions or the password.
        using (var writer = app.Api(2).CreateClient(writeKey.Key))
        {
            await (await writer.PostAsJsonAsync("api/documents", new TextDocumentRequest("Bot note", "Uploaded by the bot.", null, null))).EnsureStatusAsync(HttpStatusCode.Accepted);
            await (await writer.PostAsJsonAsync("api/auth/api-keys", new CreateApiKeyRequest("more", ["write"], null))).AssertProblemAsync(HttpStatusCode.Forbidden, ProblemCodes.InsufficientScope);
            await (await writer.GetAsync("api/auth/sessions")).AssertProblemAsync(HttpStatusCode.Forbidden, ProblemCodes.InsufficientScope);
            await (await writer.PostAsJsonAsync("api/auth/password", new ChangePasswordRequest("x", "new-password-123"))).AssertProblemAsync(HttpStatusCode.Forbidden, ProblemCodes.InsufficientScope);
        }

        // Its last use is shown.
        var keys = (await person.GetFromJsonAsync<List<ApiKeyResponse>>("api/auth/api-keys", ApiClient.Json))!;
        Assert.NotNull(keys.Single(k => k.Id == readKey.ApiKey.Id).LastUsedAt);

        // A key altered by one character, or someone else's key id, gets nothing.
        using (var forged = app.Api(0).CreateClient(readKey.Key[..^1] + (readKey.Key[^1] == 'A' ? 'B' : 'A')))
        {
            await (await forged.GetAsync("api/auth/me")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);
        }

        var stranger = await app.Api(1).SignupAsync();
        using (var strangerClient = app.Api(1).CreateClient(stranger.Tokens.AccessToken))
        {
            await (await strangerClient.DeleteAsync($"api/auth/api-keys/{readKey.ApiKey.Id}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        }

        // Revoked on one replica: refused on every replica at once.
        await (await person.DeleteAsync($"api/auth/api-keys/{readKey.ApiKey.Id}")).EnsureStatusAsync(HttpStatusCode.NoContent);
        for (var i = 0; i < app.ApiReplicas.Count; i++)
        {
            using var reader = app.Api(i).CreateClient(readKey.Key);
            await (await reader.GetAsync("api/documents")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);
        }

        using (var writer = app.Api(1).CreateClient(writeKey.Key))
        {
            await (await writer.GetAsync("api/documents")).EnsureStatusAsync(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task A_deactivated_users_keys_stop_working_and_bad_requests_are_refused_with_reasons()
    {
        var admin = await app.Api(0).SignupAsync();
        using var adminClient = app.Api(0).CreateClient(admin.Tokens.AccessToken);
        var email = ApiClient.UniqueEmail("keyholder");
        var created = await adminClient.PostAsJsonAsync("api/users", new CreateUserRequest(email, "holder-password-1", "Holder", null));
        var holder = (await created.Content.ReadFromJsonAsync<UserResponse>(ApiClient.Json))!;
        var login = (await (await app.Api(1).LoginAsync(email, "holder-password-1")).Content.ReadFromJsonAsync<TokenResponse>(ApiClient.Json))!;
        using var holderClient = app.Api(1).CreateClient(login.AccessToken);

        await (await holderClient.PostAsJsonAsync("api/auth/api-keys", new CreateApiKeyRequest("", null, null))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await holderClient.PostAsJsonAsync("api/auth/api-keys", new CreateApiKeyRequest("x", ["admin"], null))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await holderClient.PostAsJsonAsync("api/auth/api-keys", new CreateApiKeyRequest("x", null, 5000))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await holderClient.PostAsJsonAsync("api/auth/api-keys", new CreateApiKeyRequest("x", [null!], null))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);

        var key = await CreateAsync(holderClient, new CreateApiKeyRequest("cron", ["read"], null));
        using (var cron = app.Api(2).CreateClient(key.Key))
        {
            await (await cron.GetAsync("api/documents")).EnsureStatusAsync(HttpStatusCode.OK);
        }

        await (await adminClient.PatchAsJsonAsync($"api/users/{holder.Id}", new UpdateUserRequest(null, false))).EnsureStatusAsync(HttpStatusCode.OK);
        using (var cron = app.Api(2).CreateClient(key.Key))
        {
            await (await cron.GetAsync("api/documents")).AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemCodes.Unauthorized);
        }
    }

    private static async Task<CreatedApiKeyResponse> CreateAsync(HttpClient client, CreateApiKeyRequest request)
    {
        var response = await client.PostAsJsonAsync("api/auth/api-keys", request);
        await response.EnsureStatusAsync(HttpStatusCode.Created);
        return (await response.Content.ReadFromJsonAsync<CreatedApiKeyResponse>(ApiClient.Json))!;
    }
}
