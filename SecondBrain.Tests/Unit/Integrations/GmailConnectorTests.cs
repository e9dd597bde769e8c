using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Integrations;
using SecondBrain.Core.Integrations.Email;
using SecondBrain.Core.Integrations.Gmail;
using SecondBrain.Core.Sync;
using SecondBrain.TestSupport.StandIns;

namespace SecondBrain.Tests.Unit.Integrations;

public sealed class GmailConnectorTests : IDisposable
{
    private static readonly Uri RedirectUri = new("https://app.example/api/integrations/gmail/callback");

    private readonly GmailStandIn _gmail = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddHttpClient().BuildServiceProvider();

    public void Dispose()
    {
        _services.Dispose();
        _gmail.Dispose();
    }

    [Fact]
    public void Authorize_url_carries_pkce_s256_state_redirect_and_offline_access()
    {
        var url = Provider().BuildAuthorizeUrl("st ate/+&=", "challenge-123", RedirectUri);

        Assert.StartsWith(_gmail.AuthorizeEndpoint + "?", url.AbsoluteUri, StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(url.Query);
        Assert.Equal(GmailStandIn.ClientId, query["client_id"]);
        Assert.Equal(RedirectUri.AbsoluteUri, query["redirect_uri"]);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal(GmailStandIn.Scope, query["scope"]);
        Assert.Equal("st ate/+&=", query["state"]);
        Assert.Equal("challenge-123", query["code_challenge"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal("offline", query["access_type"]);
        Assert.Equal("consent", query["prompt"]);
    }

    [Fact]
    public async Task Authorization_code_flow_with_pkce_yields_tokens_and_the_account_address()
    {
        var provider = Provider();
        var verifier = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var consent = await browser.GetAsync(provider.BuildAuthorizeUrl("the-state", challenge, RedirectUri));
        Assert.Equal(HttpStatusCode.Found, consent.StatusCode);
        var callback = QueryHelpers.ParseQuery(consent.Headers.Location!.Query);
        Assert.Equal("the-state", callback["state"]);

        var tokens = await provider.ExchangeCodeAsync(callback["code"].ToString(), verifier, RedirectUri, CancellationToken.None);

        Assert.StartsWith("ya29.", tokens.AccessToken, StringComparison.Ordinal);
        Assert.NotNull(tokens.RefreshToken);
        Assert.Equal(GmailStandIn.EmailAddress, tokens.AccountLabel);
        Assert.Equal(GmailStandIn.Scope, tokens.Scope);
        Assert.True(tokens.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(50));
    }

    [Fact]
    public async Task A_wrong_code_or_verifier_throws_provider_oauth_exception()
    {
        var provider = Provider();
        var wrongCode = await Assert.ThrowsAsync<ProviderOAuthException>(
            () => provider.ExchangeCodeAsync("4/not-issued", "verifier", RedirectUri, CancellationToken.None));
        Assert.Equal("invalid_grant", wrongCode.Error);

        var challenge = Base64Url.EncodeToString(SHA256.HashData("right-verifier"u8));
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var consent = await browser.GetAsync(provider.BuildAuthorizeUrl("s", challenge, RedirectUri));
        var code = QueryHelpers.ParseQuery(consent.Headers.Location!.Query)["code"].ToString();
        var wrongVerifier = await Assert.ThrowsAsync<ProviderOAuthException>(
            () => provider.ExchangeCodeAsync(code, "wrong-verifier", RedirectUri, CancellationToken.None));
        Assert.Equal("invalid_grant", wrongVerifier.Error);
    }

    [Fact]
    public async Task Refresh_keeps_the_old_refresh_token_and_after_revocation_requires_reauth()
    {
        var provider = Provider();
        var tokens = await provider.ExchangeCodeAsync(_gmail.IssueAuthorizationCode(), "v", RedirectUri, CancellationToken.None);

        var refreshed = await provider.RefreshAsync(tokens.RefreshToken!, CancellationToken.None);
        Assert.NotEqual(tokens.AccessToken, refreshed.AccessToken);
        Assert.Equal(tokens.RefreshToken, refreshed.RefreshToken);

        _gmail.RevokeAll();
        await Assert.ThrowsAsync<ReauthRequiredException>(() => provider.RefreshAsync(tokens.RefreshToken!, CancellationToken.None));
    }

    [Fact]
    public async Task Revoke_ends_the_grant_and_never_fails_the_caller()
    {
        var provider = Provider();
        var tokens = await provider.ExchangeCodeAsync(_gmail.IssueAuthorizationCode(), "v", RedirectUri, CancellationToken.None);

        await provider.RevokeAsync(tokens, CancellationToken.None);
        Assert.Equal(1, _gmail.RevokeRequests);
        await Assert.ThrowsAsync<ReauthRequiredException>(() => provider.RefreshAsync(tokens.RefreshToken!, CancellationToken.None));

        // A second revocation is refused by Google (400) and an unreachable endpoint throws: both are swallowed.
        await provider.RevokeAsync(tokens, CancellationToken.None);
        await Provider(o => o.RevokeEndpoint = "http://127.0.0.1:9/revoke").RevokeAsync(tokens, CancellationToken.None);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => provider.RevokeAsync(tokens, new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task Full_sync_pages_through_every_message_and_ends_with_the_profile_history_id()
    {
        _gmail.AddMessages(250);
        var historyId = _gmail.HistoryId;
        var (reader, _) = await ConnectAsync();
        var profileCallsOfTheExchange = _gmail.ProfileRequests;

        var pages = await ReadAllAsync(reader, Context(), cursor: null);

        Assert.Equal(3, pages.Count);
        Assert.Equal([100, 100, 50], pages.Select(p => p.Items.Count));
        Assert.All(pages, p => Assert.Equal(250, p.EstimatedTotal));
        Assert.All(pages, p => Assert.Equal(GmailReader.StageListing, p.Stage));
        Assert.All(pages.Take(2), p => Assert.Null(p.SyncState));
        Assert.Equal(historyId, pages[^1].SyncState);
        Assert.Null(pages[^1].NextCursor);

        var items = pages.SelectMany(p => p.Items).ToList();
        Assert.Equal(250, items.Select(i => i.ExternalId).Distinct().Count());
        Assert.Equal(250, items.Select(i => i.Title).Distinct().Count());
        Assert.Equal(250, items.Select(i => i.Author).Distinct().Count());
        Assert.Equal(250, items.Select(i => i.CreatedAt).Distinct().Count());
        Assert.All(items, i =>
        {
            Assert.Equal(MailItemFactory.ContentType, i.ContentType);
            Assert.NotNull(i.Content);
            Assert.False(i.Deleted);
            Assert.Equal(i.ExternalId, i.Metadata["threadId"]);
            Assert.Contains("INBOX", i.Metadata["labels"], StringComparison.Ordinal);
        });
        Assert.Empty(pages.SelectMany(p => p.Failures));
        Assert.Equal(profileCallsOfTheExchange + 1, _gmail.ProfileRequests);
        Assert.Equal(250, _gmail.MessageGets);
    }

    [Fact]
    public async Task A_new_reader_resumes_from_the_second_page_cursor_with_exactly_the_remaining_items()
    {
        _gmail.AddMessages(250);
        var (reader, tokens) = await ConnectAsync();
        var all = await ReadAllAsync(reader, Context(), cursor: null);

        var resumed = await ReadAllAsync(Reader(tokens), Context(), all[0].NextCursor);

        Assert.Equal(2, resumed.Count);
        Assert.Equal(
            all.Skip(1).SelectMany(p => p.Items).Select(i => i.ExternalId),
            resumed.SelectMany(p => p.Items).Select(i => i.ExternalId));
        Assert.Equal(all[^1].SyncState, resumed[^1].SyncState);
    }

    [Fact]
    public async Task Incremental_sync_reads_added_messages_and_deletions_since_the_last_history_id()
    {
        var existing = _gmail.AddMessages(20);
        var (reader, _) = await ConnectAsync();
        var full = await ReadAllAsync(reader, Context(), cursor: null);
        var since = full[^1].SyncState!;

        var added = _gmail.AddMessages(3);
        Assert.True(_gmail.DeleteMessage(existing[5]));
        var pages = await ReadAllAsync(reader, Context(since), cursor: null);

        var items = pages.SelectMany(p => p.Items).ToList();
        Assert.Equal(4, items.Count);
        Assert.Equal(added.Order(), items.Where(i => !i.Deleted).Select(i => i.ExternalId).Order());
        var deleted = Assert.Single(items, i => i.Deleted);
        Assert.Equal(existing[5], deleted.ExternalId);
        Assert.Equal("(deleted)", deleted.Title);
        Assert.Null(deleted.Content);
        Assert.Equal(MailItemFactory.ContentType, deleted.ContentType);
        Assert.All(pages, p => Assert.Equal(GmailReader.StageHistory, p.Stage));
        Assert.Equal(_gmail.HistoryId, pages[^1].SyncState);

        var nothingNew = await ReadAllAsync(reader, Context(pages[^1].SyncState), cursor: null);
        Assert.Empty(nothingNew.SelectMany(p => p.Items));
    }

    [Fact]
    public async Task Incremental_history_pages_resume_from_their_cursor()
    {
        _gmail.AddMessages(5);
        var since = _gmail.HistoryId;
        var added = _gmail.AddMessages(7);
        var (_, tokens) = await ConnectAsync();
        var reader = Reader(tokens, pageSize: 3);

        var first = await reader.ReadPageAsync(Context(since), null, CancellationToken.None);
        var rest = await ReadAllAsync(Reader(tokens, pageSize: 3), Context(since), first.NextCursor);

        Assert.Equal(2, rest.Count);
        Assert.Equal(added.Order(), first.Items.Concat(rest.SelectMany(p => p.Items)).Select(i => i.ExternalId).Order());
        Assert.Equal(_gmail.HistoryId, rest[^1].SyncState);
    }

    [Fact]
    public async Task When_the_history_is_gone_the_reader_falls_back_to_a_full_sync()
    {
        _gmail.AddMessages(30);
        var since = _gmail.HistoryId;
        _gmail.AddMessages(2);
        _gmail.ExpireHistory();
        var (_, tokens) = await ConnectAsync();

        var pages = await ReadAllAsync(Reader(tokens, pageSize: 20), Context(since), cursor: null);

        Assert.Equal(2, pages.Count);
        Assert.Equal(32, pages.SelectMany(p => p.Items).Select(i => i.ExternalId).Distinct().Count());
        Assert.All(pages, p => Assert.Equal(GmailReader.StageHistoryExpired, p.Stage));
        Assert.Equal(_gmail.HistoryId, pages[^1].SyncState);
        Assert.Equal(1, _gmail.HistoryRequests);
    }

    [Fact]
    public async Task Unreadable_or_vanished_messages_become_failures_while_the_others_succeed()
    {
        _gmail.AddMessages(3);
        _gmail.AddRawMessage("empty-message", []);
        _gmail.AddRawMessage("not-mail", "\0\0\0 garbage without any header\r\n"u8.ToArray());
        _gmail.AddGhostMessage("vanished");
        _gmail.AddMessages(2);
        var (reader, _) = await ConnectAsync();

        var page = Assert.Single(await ReadAllAsync(reader, Context(), cursor: null));

        Assert.Equal(5, page.Items.Count);
        Assert.Equal(["empty-message", "not-mail", "vanished"], page.Failures.Select(f => f.ExternalId).Order());
        Assert.Contains("404", page.Failures.Single(f => f.ExternalId == "vanished").Reason, StringComparison.Ordinal);
        Assert.All(page.Failures, f => Assert.False(string.IsNullOrWhiteSpace(f.Reason)));
        Assert.NotNull(page.SyncState);
    }

    [Theory]
    [InlineData("aGVsbG8", "hello")]
    [InlineData("aGVsbG8=", "hello")]
    [InlineData("-_8", "\u00fb\u00ff")]
    public void Base64url_is_decoded_with_or_without_padding(string encoded, string expected) =>
        Assert.Equal(expected, Encoding.Latin1.GetString(GmailApi.DecodeBase64Url(encoded)!));

    [Theory]
    [InlineData("a")]
    [InlineData("not base64 !!")]
    public void Invalid_base64url_is_rejected(string encoded) => Assert.Null(GmailApi.DecodeBase64Url(encoded));

    [Fact]
    public async Task A_401_triggers_exactly_one_forced_refresh()
    {
        _gmail.AddMessages(40);
        var (reader, tokens) = await ConnectAsync();
        _gmail.ExpireAccessTokens();

        var page = await reader.ReadPageAsync(Context(), null, CancellationToken.None);

        Assert.Equal(40, page.Items.Count);
        Assert.Equal(1, tokens.ForcedRefreshes);
        Assert.Equal(1, _gmail.RefreshGrants);
        Assert.Equal(1, _gmail.UnauthorizedResponses);
    }

    [Fact]
    public async Task A_second_401_or_a_revoked_grant_requires_reauth()
    {
        _gmail.AddMessages(5);
        var (_, tokens) = await ConnectAsync();
        var stale = new FixedTokenSource("ya29.never-valid");
        await Assert.ThrowsAsync<ReauthRequiredException>(() => Reader(stale).ReadPageAsync(Context(), null, CancellationToken.None));
        Assert.Equal(1, stale.ForcedRefreshes);

        _gmail.RevokeAll();
        await Assert.ThrowsAsync<ReauthRequiredException>(() => Reader(tokens).ReadPageAsync(Context(), null, CancellationToken.None));
    }

    [Fact]
    public async Task Rate_limits_that_outlast_the_resilience_handler_fail_the_page_which_succeeds_when_retried()
    {
        _gmail.AddMessages(10);
        var (reader, _) = await ConnectAsync();
        _gmail.FailNextRequests(1, status: 429, retryAfterSeconds: 7);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => reader.ReadPageAsync(Context(), null, CancellationToken.None));
        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        Assert.Contains("retry after 7s", error.Message, StringComparison.Ordinal);

        _gmail.FailNextRequests(1, status: 503);
        await Assert.ThrowsAsync<HttpRequestException>(() => reader.ReadPageAsync(Context(), null, CancellationToken.None));

        var page = await reader.ReadPageAsync(Context(), null, CancellationToken.None);
        Assert.Equal(10, page.Items.Count);
        Assert.Equal(2, _gmail.InjectedFailures);
    }

    private GmailOAuthProvider Provider(Action<OAuthProviderOptions>? configure = null) =>
        new(_services.GetRequiredService<IHttpClientFactory>(), Options(configure));

    private GmailReader Reader(IConnectionTokenSource tokens, int pageSize = 100) =>
        new(_services.GetRequiredService<IHttpClientFactory>(), tokens, Options(o => o.PageSize = pageSize), NullLogger<GmailReader>.Instance);

    private async Task<(GmailReader Reader, ProviderTokenSource Tokens)> ConnectAsync()
    {
        var provider = Provider();
        var tokens = new ProviderTokenSource(provider, await provider.ExchangeCodeAsync(_gmail.IssueAuthorizationCode(), "v", RedirectUri, CancellationToken.None));
        return (Reader(tokens), tokens);
    }

    private IOptions<IntegrationsOptions> Options(Action<OAuthProviderOptions>? configure)
    {
        var gmail = new OAuthProviderOptions
        {
            ClientId = GmailStandIn.ClientId,
            ClientSecret = GmailStandIn.ClientSecret,
            AuthorizeEndpoint = _gmail.AuthorizeEndpoint,
            TokenEndpoint = _gmail.TokenEndpoint,
            RevokeEndpoint = _gmail.RevokeEndpoint,
            ApiBaseUrl = _gmail.Url,
            Scopes = GmailStandIn.Scope,
            PageSize = 100
        };
        configure?.Invoke(gmail);
        return Microsoft.Extensions.Options.Options.Create(new IntegrationsOptions { Gmail = gmail });
    }

    private static SourceReadContext Context(string? previousSyncState = null) =>
        new(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), null, previousSyncState);

    private static async Task<List<SourcePage>> ReadAllAsync(GmailReader reader, SourceReadContext context, string? cursor)
    {
        var pages = new List<SourcePage>();
        do
        {
            var page = await reader.ReadPageAsync(context, cursor, CancellationToken.None);
            pages.Add(page);
            cursor = page.NextCursor;
            Assert.True(pages.Count < 100, "the reader never finished");
        }
        while (cursor is not null);

        return pages;
    }

    /// <summary>The connection's token store, reduced to what a reader needs: refresh through the provider when forced.</summary>
    private sealed class ProviderTokenSource(GmailOAuthProvider provider, ProviderTokens initial) : IConnectionTokenSource
    {
        private ProviderTokens _tokens = initial;
        private int _forcedRefreshes;

        public int ForcedRefreshes => Volatile.Read(ref _forcedRefreshes);

        public async Task<string> GetAccessTokenAsync(Guid connectionId, bool forceRefresh, CancellationToken cancellationToken)
        {
            if (forceRefresh)
            {
                Interlocked.Increment(ref _forcedRefreshes);
                _tokens = await provider.RefreshAsync(_tokens.RefreshToken!, cancellationToken);
            }

            return _tokens.AccessToken;
        }
    }

    private sealed class FixedTokenSource(string token) : IConnectionTokenSource
    {
        private int _forcedRefreshes;

        public int ForcedRefreshes => Volatile.Read(ref _forcedRefreshes);

        public Task<string> GetAccessTokenAsync(Guid connectionId, bool forceRefresh, CancellationToken cancellationToken)
        {
            if (forceRefresh)
            {
                Interlocked.Increment(ref _forcedRefreshes);
            }

            return Task.FromResult(token);
        }
    }
}
