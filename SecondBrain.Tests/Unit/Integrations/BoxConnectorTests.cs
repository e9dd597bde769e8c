using System.Net;
using System.Text;
using System.Web;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Integrations;
using SecondBrain.Core.Integrations.Box;
using SecondBrain.Core.Sync;
using SecondBrain.TestSupport.StandIns;

namespace SecondBrain.Tests.Unit.Integrations;

public sealed class BoxConnectorTests : IDisposable
{
    private static readonly Uri Redirect = new("https://app.example.test/api/integrations/box/callback");

    private readonly BoxStandIn _box = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddHttpClient().BuildServiceProvider();

    public void Dispose()
    {
        _services.Dispose();
        _box.Dispose();
    }

    [Fact]
    public void Authorize_url_carries_client_redirect_state_and_pkce()
    {
        var url = Provider().BuildAuthorizeUrl("state-123", "challenge-abc", Redirect);

        Assert.StartsWith(_box.Url + "/api/oauth2/authorize?", url.ToString());
        var query = HttpUtility.ParseQueryString(url.Query);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal(_box.ClientId, query["client_id"]);
        Assert.Equal(Redirect.ToString(), query["redirect_uri"]);
        Assert.Equal("state-123", query["state"]);
        Assert.Equal("challenge-abc", query["code_challenge"]);
        Assert.Equal("S256", query["code_challenge_method"]);
    }

    [Fact]
    public async Task The_stand_in_consent_page_redirects_back_with_a_usable_code_and_the_state()
    {
        var provider = Provider();
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        using var consent = await browser.GetAsync(provider.BuildAuthorizeUrl("state-xyz", "challenge", Redirect));

        Assert.Equal(HttpStatusCode.Found, consent.StatusCode);
        var callback = consent.Headers.Location!;
        Assert.StartsWith(Redirect.ToString(), callback.ToString());
        var query = HttpUtility.ParseQueryString(callback.Query);
        Assert.Equal("state-xyz", query["state"]);
        var tokens = await provider.ExchangeCodeAsync(query["code"]!, "verifier", Redirect, CancellationToken.None);
        Assert.Equal(_box.UserLogin, tokens.AccountLabel);
    }

    [Fact]
    public async Task Code_exchange_returns_tokens_and_the_login_and_a_wrong_code_is_refused()
    {
        var provider = Provider();

        var tokens = await provider.ExchangeCodeAsync(_box.IssueAuthorizationCode(), "verifier", Redirect, CancellationToken.None);

        Assert.StartsWith("access-", tokens.AccessToken);
        Assert.StartsWith("refresh-", tokens.RefreshToken);
        Assert.True(tokens.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(50));
        Assert.Equal(_box.UserLogin, tokens.AccountLabel);

        var refused = await Assert.ThrowsAsync<ProviderOAuthException>(() => provider.ExchangeCodeAsync("not-a-code", "verifier", Redirect, CancellationToken.None));
        Assert.Equal("invalid_grant", refused.Error);
    }

    [Fact]
    public async Task A_code_works_once()
    {
        var provider = Provider();
        var code = _box.IssueAuthorizationCode();
        await provider.ExchangeCodeAsync(code, "verifier", Redirect, CancellationToken.None);

        var replay = await Assert.ThrowsAsync<ProviderOAuthException>(() => provider.ExchangeCodeAsync(code, "verifier", Redirect, CancellationToken.None));
        Assert.Equal("invalid_grant", replay.Error);
    }

    [Fact]
    public async Task Refresh_tokens_are_single_use_and_each_refresh_returns_the_next_one()
    {
        var provider = Provider();
        var first = await provider.ExchangeCodeAsync(_box.IssueAuthorizationCode(), "verifier", Redirect, CancellationToken.None);

        var second = await provider.RefreshAsync(first.RefreshToken!, CancellationToken.None);
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        Assert.NotEqual(first.AccessToken, second.AccessToken);

        await Assert.ThrowsAsync<ReauthRequiredException>(() => provider.RefreshAsync(first.RefreshToken!, CancellationToken.None));

        var third = await provider.RefreshAsync(second.RefreshToken!, CancellationToken.None);
        Assert.NotNull(third.RefreshToken);
    }

    [Fact]
    public async Task Revoke_ends_the_grant_and_never_throws()
    {
        var provider = Provider();
        var tokens = await provider.ExchangeCodeAsync(_box.IssueAuthorizationCode(), "verifier", Redirect, CancellationToken.None);

        await provider.RevokeAsync(tokens, CancellationToken.None);

        Assert.Equal(1, _box.Revocations);
        await Assert.ThrowsAsync<ReauthRequiredException>(() => provider.RefreshAsync(tokens.RefreshToken!, CancellationToken.None));

        _box.Dispose();
        await provider.RevokeAsync(tokens, CancellationToken.None);
    }

    [Fact]
    public async Task Full_sync_of_nested_folders_gives_every_file_once_with_its_path_and_a_sync_state()
    {
        var expected = SeedTree(_box);
        var (reader, _) = await ConnectAsync(pageSize: 50);

        var (items, failures, pages) = await ReadAllAsync(reader, Context(null), cursor: null);

        Assert.Empty(failures);
        Assert.Equal(expected.Count, items.Count);
        Assert.Equal(expected.Keys.Order(), items.Select(i => i.ExternalId).Order());
        foreach (var item in items)
        {
            Assert.Equal(expected[item.ExternalId], item.Metadata["path"]);
            Assert.Equal($"content of {item.Title}", Encoding.UTF8.GetString(item.Content!));
            Assert.Equal("text/plain", item.ContentType);
            Assert.Equal(_box.UserName, item.Author);
            Assert.NotNull(item.CreatedAt);
            Assert.Equal(40, item.Metadata["sha1"].Length);
            Assert.True(item.Metadata.ContainsKey("version"));
        }

        Assert.NotNull(pages[^1].SyncState);
        Assert.All(pages[..^1], p => Assert.Null(p.SyncState));
        Assert.Equal(expected.Count, _box.Downloads);
        Assert.Contains(pages, p => p.Stage == "downloading /Projects/Specs");
    }

    [Fact]
    public async Task A_new_reader_resumes_from_a_middle_cursor_and_reads_exactly_the_rest()
    {
        var expected = SeedTree(_box);
        var (reader, _) = await ConnectAsync(pageSize: 50);
        var context = Context(null);

        var firstPages = new List<SourceItem>();
        string? cursor = null;
        // Pages: root, /Archive, /Projects, the first half of /Projects/Specs; the cursor now points inside a folder.
        for (var i = 0; i < 4; i++)
        {
            var page = await reader.ReadPageAsync(context, cursor, CancellationToken.None);
            firstPages.AddRange(page.Items);
            cursor = page.NextCursor;
        }

        Assert.NotNull(cursor);
        Assert.NotEmpty(firstPages);

        var (otherReader, _) = await ConnectAsync(pageSize: 50);
        var (rest, failures, _) = await ReadAllAsync(otherReader, context, cursor);

        Assert.Empty(failures);
        var all = firstPages.Concat(rest).Select(i => i.ExternalId).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(expected.Keys.Order(), all.Order());
    }

    [Fact]
    public async Task Incremental_sync_reads_modified_new_and_trashed_files_from_the_stream_position()
    {
        var expected = SeedTree(_box);
        var (reader, _) = await ConnectAsync(pageSize: 50);
        var (_, _, pages) = await ReadAllAsync(reader, Context(null), cursor: null);
        var position = pages[^1].SyncState;

        var ids = expected.Keys.Order().ToList();
        _box.ModifyFile(ids[0], Encoding.UTF8.GetBytes("new version"));
        _box.TrashFile(ids[1]);
        var specs = _box.AddFolder(BoxStandIn.RootFolderId, "Later");
        var added = _box.AddFile(specs, "added.md", Encoding.UTF8.GetBytes("# added"));

        var (changes, failures, changePages) = await ReadAllAsync(reader, Context(position), cursor: null);

        Assert.Empty(failures);
        Assert.Equal(3, changes.Count);
        var modified = Assert.Single(changes, i => i.ExternalId == ids[0]);
        Assert.Equal("new version", Encoding.UTF8.GetString(modified.Content!));
        Assert.False(modified.Deleted);
        var trashed = Assert.Single(changes, i => i.ExternalId == ids[1]);
        Assert.True(trashed.Deleted);
        Assert.Null(trashed.Content);
        var created = Assert.Single(changes, i => i.ExternalId == added);
        Assert.Equal("/Later/added.md", created.Metadata["path"]);
        Assert.Equal("text/markdown", created.ContentType);
        Assert.All(changePages, p => Assert.Equal("reading changes", p.Stage));

        var next = changePages[^1].SyncState;
        Assert.NotNull(next);
        Assert.NotEqual(position, next);

        var (nothing, _, _) = await ReadAllAsync(reader, Context(next), cursor: null);
        Assert.Empty(nothing);
    }

    [Fact]
    public async Task A_401_triggers_exactly_one_forced_refresh_and_the_page_succeeds()
    {
        _box.AddFile(BoxStandIn.RootFolderId, "a.txt", "content of a.txt"u8.ToArray());
        var (reader, tokenSource) = await ConnectAsync(pageSize: 50);
        _box.ExpireAccessTokens();
        var tokenRequestsBefore = _box.TokenRequests;

        var (items, _, _) = await ReadAllAsync(reader, Context(null), cursor: null);

        Assert.Single(items);
        Assert.Equal(1, tokenSource.ForcedRefreshes);
        Assert.Equal(tokenRequestsBefore + 1, _box.TokenRequests);
    }

    [Fact]
    public async Task A_revoked_grant_ends_in_reauth_required()
    {
        _box.AddFile(BoxStandIn.RootFolderId, "a.txt", "content"u8.ToArray());
        var (reader, _) = await ConnectAsync(pageSize: 50);
        _box.RevokeAll();

        await Assert.ThrowsAsync<ReauthRequiredException>(() => reader.ReadPageAsync(Context(null), null, CancellationToken.None));
    }

    [Fact]
    public async Task Oversized_files_and_files_gone_before_download_are_failures_and_the_rest_continues()
    {
        var kept = _box.AddFile(BoxStandIn.RootFolderId, "kept.pdf", "%PDF-1.4"u8.ToArray());
        var big = _box.AddFile(BoxStandIn.RootFolderId, "big.bin", new byte[BoxReader.MaxFileBytes + 1]);
        var gone = _box.AddFile(BoxStandIn.RootFolderId, "gone.docx", "x"u8.ToArray());
        _box.RemoveContent(gone);
        var (reader, _) = await ConnectAsync(pageSize: 50);

        var (items, failures, _) = await ReadAllAsync(reader, Context(null), cursor: null);

        var item = Assert.Single(items);
        Assert.Equal(kept, item.ExternalId);
        Assert.Equal("application/pdf", item.ContentType);
        Assert.Contains("50 MB", Assert.Single(failures, f => f.ExternalId == big).Reason);
        Assert.Contains("404", Assert.Single(failures, f => f.ExternalId == gone).Reason);
        Assert.Equal(1, _box.Downloads);
    }

    [Fact]
    public async Task Rate_limits_left_over_by_the_resilience_handler_surface_as_http_errors()
    {
        _box.AddFile(BoxStandIn.RootFolderId, "a.txt", "content"u8.ToArray());
        var (reader, _) = await ConnectAsync(pageSize: 50);
        _box.FailNextRequests(1, 429);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => reader.ReadPageAsync(Context(null), null, CancellationToken.None));
        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
    }

    [Theory]
    [InlineData("report.pdf", "application/pdf")]
    [InlineData("Plan.DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]
    [InlineData("deck.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation")]
    [InlineData("sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")]
    [InlineData("notes.md", "text/markdown")]
    [InlineData("page.html", "text/html")]
    [InlineData("data.csv", "text/csv")]
    [InlineData("data.json", "application/json")]
    [InlineData("mail.eml", "message/rfc822")]
    [InlineData("archive.7z", "application/octet-stream")]
    [InlineData("README", "application/octet-stream")]
    public void Content_type_comes_from_the_extension(string name, string expected) =>
        Assert.Equal(expected, BoxContentTypes.ForName(name));

    /// <summary>Root (5 files), /Archive (25), /Projects (20), /Projects/Specs (70, two listing pages of 50): 120 files.</summary>
    private static Dictionary<string, string> SeedTree(BoxStandIn box)
    {
        var paths = new Dictionary<string, string>();
        var projects = box.AddFolder(BoxStandIn.RootFolderId, "Projects");
        var specs = box.AddFolder(projects, "Specs");
        var archive = box.AddFolder(BoxStandIn.RootFolderId, "Archive");
        foreach (var (folder, path, count) in new[] { (BoxStandIn.RootFolderId, "", 5), (projects, "/Projects", 20), (specs, "/Projects/Specs", 70), (archive, "/Archive", 25) })
        {
            for (var i = 0; i < count; i++)
            {
                var name = $"file-{i:D3}.txt";
                paths[box.AddFile(folder, name, Encoding.UTF8.GetBytes($"content of {name}"))] = $"{path}/{name}";
            }
        }

        return paths;
    }

    private static async Task<(List<SourceItem> Items, List<SourceItemFailure> Failures, List<SourcePage> Pages)> ReadAllAsync(
        BoxReader reader, SourceReadContext context, string? cursor)
    {
        var items = new List<SourceItem>();
        var failures = new List<SourceItemFailure>();
        var pages = new List<SourcePage>();
        do
        {
            var page = await reader.ReadPageAsync(context, cursor, CancellationToken.None);
            pages.Add(page);
            items.AddRange(page.Items);
            failures.AddRange(page.Failures);
            cursor = page.NextCursor;
            Assert.True(pages.Count < 100, "the reader did not finish");
        }
        while (cursor is not null);

        return (items, failures, pages);
    }

    private static SourceReadContext Context(string? previousSyncState) =>
        new(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), null, previousSyncState);

    private IOptions<IntegrationsOptions> Options(int? pageSize = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(_box.ConfigurationFor(pageSize).Select(p => KeyValuePair.Create(p.Key, (string?)p.Value)))
            .Build();
        var options = new IntegrationsOptions();
        configuration.GetSection(IntegrationsOptions.SectionName).Bind(options);
        return Microsoft.Extensions.Options.Options.Create(options);
    }

    private BoxOAuthProvider Provider(int? pageSize = null) =>
        new(_services.GetRequiredService<IHttpClientFactory>(), Options(pageSize));

    private async Task<(BoxReader Reader, ProviderTokenSource Tokens)> ConnectAsync(int pageSize)
    {
        var provider = Provider(pageSize);
        var tokens = await provider.ExchangeCodeAsync(_box.IssueAuthorizationCode(), "verifier", Redirect, CancellationToken.None);
        var source = new ProviderTokenSource(provider, tokens);
        var reader = new BoxReader(_services.GetRequiredService<IHttpClientFactory>(), source, Options(pageSize), NullLogger<BoxReader>.Instance);
        return (reader, source);
    }

    /// <summary>Keeps one connection's tokens in memory and refreshes through the provider when asked to.</summary>
    private sealed class ProviderTokenSource(BoxOAuthProvider provider, ProviderTokens initial) : IConnectionTokenSource
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private ProviderTokens _tokens = initial;
        private int _forcedRefreshes;

        public int ForcedRefreshes => Volatile.Read(ref _forcedRefreshes);

        public async Task<string> GetAccessTokenAsync(Guid connectionId, bool forceRefresh, CancellationToken cancellationToken)
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                if (forceRefresh)
                {
                    Interlocked.Increment(ref _forcedRefreshes);
                    _tokens = await provider.RefreshAsync(_tokens.RefreshToken!, cancellationToken);
                }

                return _tokens.AccessToken;
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
