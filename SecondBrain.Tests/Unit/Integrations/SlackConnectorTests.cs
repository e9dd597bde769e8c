using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Integrations;
using SecondBrain.Core.Integrations.Slack;
using SecondBrain.Core.Sync;
using SecondBrain.TestSupport.StandIns;
using StackExchange.Redis;

using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Unit.Integrations;

/// <summary>The Slack OAuth provider and Web API reader against <see cref="SlackStandIn"/>, with a real Redis for user names.</summary>
public sealed class SlackConnectorTests(RedisServerFixture redisFixture) : IClassFixture<RedisServerFixture>, IDisposable
{
    private static readonly Uri RedirectUri = new("https://secondbrain.test/api/integrations/slack/callback");

    private static readonly string[] Names = ["Ada Lovelace", "Grace Hopper", "Alan Turing"];

    private readonly SlackStandIn _slack = new();
    private string _generalId = "";
    private string _randomId = "";
    private string _designId = "";

    public void Dispose() => _slack.Dispose();

    [Fact]
    public void Authorize_url_carries_client_scopes_redirect_state_and_pkce()
    {
        var provider = new SlackOAuthProvider(HttpFactory(), Options());

        var url = provider.BuildAuthorizeUrl("state-123", "challenge-abc", RedirectUri);

        Assert.Equal(_slack.Url + "/oauth/v2/authorize", url.GetLeftPart(UriPartial.Path));
        var query = QueryHelpers.ParseQuery(url.Query);
        Assert.Equal(_slack.ClientId, query["client_id"]);
        Assert.Equal(new IntegrationsOptions().Slack.Scopes, query["scope"]);
        Assert.Equal(RedirectUri.ToString(), query["redirect_uri"]);
        Assert.Equal("state-123", query["state"]);
        Assert.Equal("challenge-abc", query["code_challenge"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal(Sources.Slack, provider.Provider);
    }

    [Fact]
    public async Task Code_exchange_returns_rotating_tokens_and_the_team_name()
    {
        var provider = new SlackOAuthProvider(HttpFactory(), Options());
        var verifier = "verifier-" + Guid.NewGuid().ToString("N");
        var code = _slack.IssueAuthorizationCode(Challenge(verifier));

        var tokens = await provider.ExchangeCodeAsync(code, verifier, RedirectUri, CancellationToken.None);

        Assert.StartsWith("xoxe.xoxb-", tokens.AccessToken);
        Assert.NotNull(tokens.RefreshToken);
        Assert.True(tokens.ExpiresAt > DateTimeOffset.UtcNow.AddHours(11));
        Assert.Equal(_slack.TeamName, tokens.AccountLabel);
        Assert.Contains("channels:history", tokens.Scope);
        Assert.Equal(RedirectUri.ToString(), _slack.LastRedirectUri);

        // Codes are single-use.
        var replay = await Assert.ThrowsAsync<ProviderOAuthException>(() => provider.ExchangeCodeAsync(code, verifier, RedirectUri, CancellationToken.None));
        Assert.Equal("invalid_code", replay.Error);
    }

    [Fact]
    public async Task A_wrong_code_or_verifier_is_refused_with_slacks_error()
    {
        var provider = new SlackOAuthProvider(HttpFactory(), Options());

        var wrongCode = await Assert.ThrowsAsync<ProviderOAuthException>(() => provider.ExchangeCodeAsync("not-a-code", "v", RedirectUri, CancellationToken.None));
        Assert.Equal("invalid_code", wrongCode.Error);

        var code = _slack.IssueAuthorizationCode(Challenge("the-right-verifier"));
        var wrongVerifier = await Assert.ThrowsAsync<ProviderOAuthException>(() => provider.ExchangeCodeAsync(code, "another-verifier", RedirectUri, CancellationToken.None));
        Assert.Equal("invalid_code_verifier", wrongVerifier.Error);

        var badSecret = new SlackOAuthProvider(HttpFactory(), Options(o => o.ClientSecret = "wrong"));
        var refused = await Assert.ThrowsAsync<ProviderOAuthException>(() => badSecret.ExchangeCodeAsync(_slack.IssueAuthorizationCode(), "v", RedirectUri, CancellationToken.None));
        Assert.Equal("bad_client_secret", refused.Error);
    }

    [Fact]
    public async Task Refresh_rotates_tokens_and_a_revoked_grant_requires_reauth()
    {
        var provider = new SlackOAuthProvider(HttpFactory(), Options());
        var first = await provider.ExchangeCodeAsync(_slack.IssueAuthorizationCode(), "v", RedirectUri, CancellationToken.None);

        var refreshed = await provider.RefreshAsync(first.RefreshToken!, CancellationToken.None);
        Assert.NotEqual(first.AccessToken, refreshed.AccessToken);
        Assert.False(_slack.IsRevoked(refreshed.AccessToken));

        _slack.RevokeAll();
        await Assert.ThrowsAsync<ReauthRequiredException>(() => provider.RefreshAsync(refreshed.RefreshToken!, CancellationToken.None));
    }

    [Fact]
    public async Task Revoke_revokes_the_token_at_slack_and_never_throws()
    {
        var provider = new SlackOAuthProvider(HttpFactory(), Options());
        var tokens = await provider.ExchangeCodeAsync(_slack.IssueAuthorizationCode(), "v", RedirectUri, CancellationToken.None);

        await provider.RevokeAsync(tokens, CancellationToken.None);

        Assert.True(_slack.IsRevoked(tokens.AccessToken));
        Assert.Equal(1, _slack.Calls("auth.revoke"));

        // Best effort: an unreachable Slack does not fail the disconnect.
        var unreachable = new SlackOAuthProvider(HttpFactory(), Options(o => o.RevokeEndpoint = "http://127.0.0.1:1/api/auth.revoke"));
        await unreachable.RevokeAsync(tokens, CancellationToken.None);
    }

    [RedisFact]
    public async Task Reads_every_channel_with_names_resolved_and_replies_folded_into_threads()
    {
        SeedWorkspace();
        var reader = Reader(new FakeTokens(_slack.IssueAccessToken()));
        var context = Context();

        var (items, failures, syncState, pages) = await ReadAllAsync(reader, context);

        Assert.Empty(failures);
        Assert.Equal(12 + 7 + 5, items.Count);
        Assert.Equal(items.Count, items.Select(item => item.ExternalId).Distinct().Count());
        Assert.Equal(12 + (3 * 3) + 7 + 5, items.Sum(item => 1 + int.Parse(item.Metadata["replyCount"])));
        Assert.All(items, item =>
        {
            Assert.Equal(SlackThreads.ContentType, item.ContentType);
            Assert.Contains(item.Author!, Names);
            Assert.StartsWith("#" + item.Metadata["channel"] + ": Message ", item.Title);
            Assert.StartsWith(item.Metadata["channelId"] + ":", item.ExternalId);
            Assert.DoesNotContain("<@", item.Text);
            Assert.DoesNotContain("has joined", item.Text);
            Assert.NotNull(item.CreatedAt);
        });

        var threads = items.Where(item => item.Metadata["replyCount"] != "0").ToList();
        Assert.Equal(3, threads.Count);
        Assert.All(threads, thread =>
        {
            Assert.Equal("general", thread.Metadata["channel"]);
            Assert.Equal("3", thread.Metadata["replyCount"]);
            var lines = thread.Text!.Split('\n');
            Assert.Equal(4, lines.Length);
            Assert.Matches("^(Ada Lovelace|Grace Hopper|Alan Turing): Reply 3 to message", lines[3]);
        });

        var mention = Assert.Single(items, item => item.Title.StartsWith("#general: Message 2 in", StringComparison.Ordinal));
        Assert.Equal("Grace Hopper", mention.Author);
        Assert.Equal("Grace Hopper: Message 2 in #general: @Alan Turing please review the plan & budget", mention.Text!.Split('\n')[0]);

        var state = JsonSerializer.Deserialize<Dictionary<string, string>>(syncState!)!;
        Assert.Equal(new[] { _designId, _generalId, _randomId }.Order(), state.Keys.Order());
        Assert.Contains(pages, page => page.Stage == "reading users");
        Assert.Contains(pages, page => page.Stage == "listing channels");
        Assert.Contains(pages, page => page.Stage == "#general: history");
        var ttl = await redisFixture.Database.KeyTimeToLiveAsync(SlackReader.UserNamesKey(context.RunId));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value.TotalHours, 23, 24);
    }

    [RedisFact]
    public async Task A_new_reader_resumes_from_a_middle_cursor_and_reads_exactly_the_rest()
    {
        SeedWorkspace();
        var token = _slack.IssueAccessToken();
        var (all, _, _, _) = await ReadAllAsync(Reader(new FakeTokens(token)), Context());

        var context = Context();
        var first = Reader(new FakeTokens(token));
        var seen = new List<SourceItem>();
        string? cursor = null;
        for (var page = 0; page < 6; page++)
        {
            var result = await first.ReadPageAsync(context, cursor, CancellationToken.None);
            seen.AddRange(result.Items);
            cursor = result.NextCursor;
        }

        Assert.NotNull(cursor);
        Assert.NotEmpty(seen);

        // Another worker picks the run up; the user names it needs are in Redis, not in the first reader.
        var usersCallsBefore = _slack.Calls("users.list");
        var (rest, _, _, _) = await ReadAllAsync(Reader(new FakeTokens(token)), context, cursor);

        Assert.Equal(usersCallsBefore, _slack.Calls("users.list"));
        var resumed = seen.Concat(rest).Select(item => item.ExternalId).ToList();
        Assert.Equal(resumed.Count, resumed.Distinct().Count());
        Assert.Equal(all.Select(item => item.ExternalId).Order(), resumed.Order());
        Assert.All(rest, item => Assert.Contains(item.Author!, Names));
    }

    [RedisFact]
    public async Task Lost_user_names_are_read_again_before_the_run_continues()
    {
        SeedWorkspace();
        var token = _slack.IssueAccessToken();
        var context = Context();
        var reader = Reader(new FakeTokens(token));
        string? cursor = null;
        for (var page = 0; page < 3; page++)
        {
            cursor = (await reader.ReadPageAsync(context, cursor, CancellationToken.None)).NextCursor;
        }

        await redisFixture.Database.KeyDeleteAsync(SlackReader.UserNamesKey(context.RunId));
        var (rest, _, _, _) = await ReadAllAsync(Reader(new FakeTokens(token)), context, cursor);

        // Two pages of users (page size 2) on the first read, two more after the names were lost.
        Assert.Equal(4, _slack.Calls("users.list"));
        Assert.NotEmpty(rest);
        Assert.All(rest, item => Assert.Contains(item.Author!, Names));
    }

    [RedisFact]
    public async Task An_incremental_run_returns_only_messages_newer_than_the_sync_state()
    {
        SeedWorkspace();
        var token = _slack.IssueAccessToken();
        var (_, _, syncState, _) = await ReadAllAsync(Reader(new FakeTokens(token)), Context());

        _slack.AddMessages("general", 2);
        _slack.AddMessages("random", 1);
        var (items, failures, nextState, _) = await ReadAllAsync(Reader(new FakeTokens(token)), Context(syncState));

        Assert.Empty(failures);
        Assert.Equal(3, items.Count);
        Assert.Equal(2, items.Count(item => item.Metadata["channel"] == "general"));
        Assert.Contains(items, item => item.Title.StartsWith("#general: Message 13 in #general", StringComparison.Ordinal));
        Assert.Contains(items, item => item.Title.StartsWith("#general: Message 14 in #general", StringComparison.Ordinal));
        Assert.Contains(items, item => item.Title.StartsWith("#random: Message 8 in #random", StringComparison.Ordinal));

        var before = JsonSerializer.Deserialize<Dictionary<string, string>>(syncState!)!;
        var after = JsonSerializer.Deserialize<Dictionary<string, string>>(nextState!)!;
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.Equal(before[_designId], after[_designId]);
        Assert.True(SlackTimestamps.Compare(after[_generalId], before[_generalId]) > 0);

        // Nothing new: nothing read.
        var (none, _, _, _) = await ReadAllAsync(Reader(new FakeTokens(token)), Context(nextState));
        Assert.Empty(none);
    }

    [RedisFact]
    public async Task A_revoked_token_requires_reauth_after_one_forced_refresh()
    {
        SeedWorkspace();
        var tokens = new FakeTokens(_slack.IssueAccessToken());
        _slack.RevokeAll();

        await Assert.ThrowsAsync<ReauthRequiredException>(() => Reader(tokens).ReadPageAsync(Context(), null, CancellationToken.None));

        Assert.Equal(1, tokens.ForcedRefreshes);
        Assert.Equal(2, _slack.Calls("users.list"));
    }

    [RedisFact]
    public async Task An_expired_token_is_refreshed_once_and_the_read_goes_on()
    {
        SeedWorkspace();
        var tokens = new FakeTokens("xoxb-not-a-token", refresh: _slack.IssueAccessToken);

        var (items, _, _, _) = await ReadAllAsync(Reader(tokens), Context());

        Assert.Equal(24, items.Count);
        Assert.Equal(1, tokens.ForcedRefreshes);
    }

    [RedisFact]
    public async Task A_channel_the_app_left_is_a_failure_and_the_others_are_read()
    {
        SeedWorkspace();
        _slack.RemoveFromChannel("random");

        var (items, failures, _, _) = await ReadAllAsync(Reader(new FakeTokens(_slack.IssueAccessToken())), Context());

        var failure = Assert.Single(failures);
        Assert.Contains("not_in_channel", failure.Reason);
        Assert.Contains("#random", failure.Reason);
        Assert.Equal(12 + 5, items.Count);
    }

    [RedisFact]
    public async Task Rate_limits_surface_as_http_errors_unless_the_resilience_handler_retries_them()
    {
        SeedWorkspace();
        var token = _slack.IssueAccessToken();

        _slack.FailNextRequests(1, 429, retryAfterSeconds: 1);
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => Reader(new FakeTokens(token)).ReadPageAsync(Context(), null, CancellationToken.None));
        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);

        var services = new ServiceCollection();
        services.AddHttpClient(Sources.Slack).AddStandardResilienceHandler();
        using var provider = services.BuildServiceProvider();
        _slack.FailNextRequests(2, 429, retryAfterSeconds: 1);
        var resilient = new SlackReader(provider.GetRequiredService<IHttpClientFactory>(), new FakeTokens(token), redisFixture.Connection, Options(), NullLogger<SlackReader>.Instance);

        var page = await resilient.ReadPageAsync(Context(), null, CancellationToken.None);

        Assert.Equal("reading users", page.Stage);
        Assert.NotNull(page.NextCursor);
    }

    [Fact]
    public void The_stand_in_configuration_binds_to_the_integration_options()
    {
        var options = BoundOptions();

        Assert.Equal(_slack.Url + "/api", options.Slack.ApiBaseUrl);
        Assert.Equal(_slack.Url + "/api/oauth.v2.access", options.Slack.TokenEndpoint);
        Assert.True(options.Slack.IsConfigured);
    }

    private void SeedWorkspace()
    {
        _slack.AddUser("U0ADA0001", "Ada Lovelace");
        _slack.AddUser("U0GRACE02", "Grace Hopper");
        _slack.AddUser("U0ALAN003", "Alan Turing");
        _generalId = _slack.AddChannel("general", messages: 12, threadsWithReplies: 3);
        _randomId = _slack.AddChannel("random", messages: 7);
        _designId = _slack.AddChannel("design", messages: 5, isPrivate: true);
        _slack.AddChannel("old-stuff", messages: 4, isArchived: true);
    }

    private SlackReader Reader(IConnectionTokenSource tokens) =>
        new(HttpFactory(), tokens, redisFixture.Connection, Options(), NullLogger<SlackReader>.Instance);

    private static SourceReadContext Context(string? previousSyncState = null) =>
        new(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), null, previousSyncState);

    private IOptions<IntegrationsOptions> Options(Action<OAuthProviderOptions>? configure = null)
    {
        var options = BoundOptions();
        // Small pages, so paging (users, channels, history, replies) is exercised.
        options.Slack.PageSize = 2;
        configure?.Invoke(options.Slack);
        return Microsoft.Extensions.Options.Options.Create(options);
    }

    private IntegrationsOptions BoundOptions()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(_slack.ConfigurationFor().Select(setting => new KeyValuePair<string, string?>(setting.Key, setting.Value)))
            .Build();
        var options = new IntegrationsOptions();
        configuration.GetSection(IntegrationsOptions.SectionName).Bind(options);
        return options;
    }

    private static IHttpClientFactory HttpFactory()
    {
        var services = new ServiceCollection();
        services.AddHttpClient();
        return services.BuildServiceProvider().GetRequiredService<IHttpClientFactory>();
    }

    private static string Challenge(string verifier) =>
        WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    private static async Task<(List<SourceItem> Items, List<SourceItemFailure> Failures, string? SyncState, List<SourcePage> Pages)> ReadAllAsync(
        ISourceReader reader, SourceReadContext context, string? cursor = null)
    {
        var items = new List<SourceItem>();
        var failures = new List<SourceItemFailure>();
        var pages = new List<SourcePage>();
        for (var guard = 0; guard < 500; guard++)
        {
            var page = await reader.ReadPageAsync(context, cursor, CancellationToken.None);
            pages.Add(page);
            items.AddRange(page.Items);
            failures.AddRange(page.Failures);
            if (page.NextCursor is null)
            {
                return (items, failures, page.SyncState, pages);
            }

            cursor = page.NextCursor;
        }

        throw new InvalidOperationException("The reader never finished.");
    }

    private sealed class FakeTokens(string accessToken, Func<string>? refresh = null) : IConnectionTokenSource
    {
        private string _accessToken = accessToken;
        private int _forcedRefreshes;

        public int ForcedRefreshes => _forcedRefreshes;

        public Task<string> GetAccessTokenAsync(Guid connectionId, bool forceRefresh, CancellationToken cancellationToken)
        {
            if (forceRefresh)
            {
                Interlocked.Increment(ref _forcedRefreshes);
                if (refresh is not null)
                {
                    _accessToken = refresh();
                }
            }

            return Task.FromResult(_accessToken);
        }
    }
}
