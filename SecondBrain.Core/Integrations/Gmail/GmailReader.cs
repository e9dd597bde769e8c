using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Integrations.Email;
using SecondBrain.Core.Sync;

namespace SecondBrain.Core.Integrations.Gmail;

/// <summary>
/// Reads a Gmail mailbox: a full listing (messages.list, then each message raw) the first time, then only the
/// changes since the last run (history.list). Stateless: the cursor carries all progress, so any worker resumes any run.
/// </summary>
public sealed class GmailReader(
    IHttpClientFactory http,
    IConnectionTokenSource tokens,
    IOptions<IntegrationsOptions> options,
    ILogger<GmailReader> logger) : ISourceReader
{
    public const string StageListing = "listing messages";
    public const string StageHistory = "fetching history";
    public const string StageHistoryExpired = "history expired, full sync: listing messages";

    // messages.get costs 5 of the 250 quota units per user and second: a few at a time stays under it.
    private const int MaxParallelFetches = 4;

    public string Source => Sources.Gmail;

    public async Task<SourcePage> ReadPageAsync(SourceReadContext context, string? cursor, CancellationToken cancellationToken)
    {
        var connectionId = context.ConnectionId ?? throw new ArgumentException("A Gmail read needs a connection.", nameof(context));
        var session = new Session(tokens, http.CreateClient(Sources.Gmail), connectionId);
        var position = cursor is not null
            ? GmailCursor.Parse(cursor)
            : string.IsNullOrWhiteSpace(context.PreviousSyncState)
                ? new GmailCursor(GmailCursor.Full, null, null)
                : new GmailCursor(GmailCursor.History, null, context.PreviousSyncState.Trim());

        if (position.Mode == GmailCursor.History)
        {
            var page = await ReadHistoryPageAsync(session, position, cancellationToken);
            if (page is not null)
            {
                return page;
            }

            logger.LogInformation("Gmail history from {HistoryId} is gone for connection {ConnectionId}; falling back to a full sync", position.HistoryId, connectionId);
            position = new GmailCursor(GmailCursor.Full, null, null, FellBackToFull: true);
        }

        return await ReadFullPageAsync(session, position, cancellationToken);
    }

    private async Task<SourcePage> ReadFullPageAsync(Session session, GmailCursor position, CancellationToken cancellationToken)
    {
        var gmail = options.Value.Gmail;
        var historyId = position.HistoryId;
        if (historyId is null)
        {
            // Captured before listing: whatever changes during the listing is replayed by the next incremental run.
            var profile = await GetJsonAsync<GmailProfile>(session, GmailApi.ProfileUrl(gmail), "the mailbox profile", cancellationToken);
            historyId = string.IsNullOrWhiteSpace(profile.HistoryId)
                ? throw new HttpRequestException("Gmail's profile carries no historyId.")
                : profile.HistoryId;
        }

        var list = await GetJsonAsync<GmailMessageList>(session, GmailApi.MessagesUrl(gmail, GmailApi.PageSize(gmail), position.PageToken), "the message list", cancellationToken);
        var ids = (list.Messages ?? []).Select(m => m.Id).OfType<string>().Where(id => id.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var fetched = await FetchAllAsync(session, ids, deletedWhenMissing: false, cancellationToken);

        var next = string.IsNullOrEmpty(list.NextPageToken)
            ? null
            : new GmailCursor(GmailCursor.Full, list.NextPageToken, historyId, position.FellBackToFull).Serialize();
        return new SourcePage(
            fetched.Items,
            fetched.Failures,
            next,
            EstimatedTotal: list.ResultSizeEstimate,
            SyncState: next is null ? historyId : null,
            Stage: position.FellBackToFull ? StageHistoryExpired : StageListing);
    }

    /// <summary>One page of changes, or null when Gmail no longer has the history (404): the caller lists everything.</summary>
    private async Task<SourcePage?> ReadHistoryPageAsync(Session session, GmailCursor position, CancellationToken cancellationToken)
    {
        var gmail = options.Value.Gmail;
        var startHistoryId = position.HistoryId ?? throw new ArgumentException("A Gmail history cursor needs a historyId.");
        var url = GmailApi.HistoryUrl(gmail, startHistoryId, GmailApi.PageSize(gmail), position.PageToken);
        GmailHistoryList history;
        using (var response = await SendAsync(session, url, cancellationToken))
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            EnsureSuccess(response, "the mailbox history");
            history = await ReadJsonAsync<GmailHistoryList>(response, "the mailbox history", cancellationToken);
        }

        // A message added and deleted within the window ends deleted; the order of the records decides.
        var changes = new Dictionary<string, bool>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var record in history.History ?? [])
        {
            Note(record.MessagesAdded, deleted: false);
            Note(record.MessagesDeleted, deleted: true);
        }

        var added = order.Where(id => !changes[id]).ToList();
        var fetched = await FetchAllAsync(session, added, deletedWhenMissing: true, cancellationToken);
        var items = fetched.Items.Concat(order.Where(id => changes[id]).Select(Tombstone)).ToList();

        var next = string.IsNullOrEmpty(history.NextPageToken)
            ? null
            : new GmailCursor(GmailCursor.History, history.NextPageToken, startHistoryId).Serialize();
        return new SourcePage(
            items,
            fetched.Failures,
            next,
            SyncState: next is null ? history.HistoryId ?? startHistoryId : null,
            Stage: StageHistory);

        void Note(IReadOnlyList<GmailHistoryMessage>? messages, bool deleted)
        {
            foreach (var id in (messages ?? []).Select(m => m.Message?.Id).OfType<string>().Where(id => id.Length > 0))
            {
                if (!changes.ContainsKey(id))
                {
                    order.Add(id);
                }

                changes[id] = deleted || changes.GetValueOrDefault(id);
            }
        }
    }

    private async Task<(List<SourceItem> Items, List<SourceItemFailure> Failures)> FetchAllAsync(
        Session session, IReadOnlyList<string> ids, bool deletedWhenMissing, CancellationToken cancellationToken)
    {
        var results = new (SourceItem? Item, SourceItemFailure? Failure)[ids.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, ids.Count),
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelFetches, CancellationToken = cancellationToken },
            async (index, ct) => results[index] = await FetchMessageAsync(session, ids[index], deletedWhenMissing, ct));

        var items = new List<SourceItem>(ids.Count);
        var failures = new List<SourceItemFailure>();
        foreach (var (item, failure) in results)
        {
            if (item is not null)
            {
                items.Add(item);
            }

            if (failure is not null)
            {
                logger.LogWarning("Gmail message {MessageId} was not read: {Reason}", failure.ExternalId, failure.Reason);
                failures.Add(failure);
            }
        }

        return (items, failures);
    }

    private async Task<(SourceItem? Item, SourceItemFailure? Failure)> FetchMessageAsync(
        Session session, string id, bool deletedWhenMissing, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(session, GmailApi.MessageUrl(options.Value.Gmail, id), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            // In the history the message is simply gone by now; in a listing it vanished between list and get.
            return deletedWhenMissing
                ? (Tombstone(id), null)
                : (null, new SourceItemFailure(id, "The message was deleted in Gmail before it could be fetched (404)."));
        }

        if (GmailApi.IsTransient(response.StatusCode))
        {
            EnsureSuccess(response, $"message {id}");
        }

        if (!response.IsSuccessStatusCode)
        {
            return (null, new SourceItemFailure(id, $"Gmail refused the message ({(int)response.StatusCode} {response.ReasonPhrase})."));
        }

        GmailMessage message;
        try
        {
            message = await ReadJsonAsync<GmailMessage>(response, $"message {id}", cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            return (null, new SourceItemFailure(id, ex.Message));
        }

        if (string.IsNullOrEmpty(message.Raw))
        {
            return (null, new SourceItemFailure(id, "Gmail returned the message without its raw content."));
        }

        var raw = GmailApi.DecodeBase64Url(message.Raw);
        if (raw is null)
        {
            return (null, new SourceItemFailure(id, "The raw message is not valid base64url."));
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["threadId"] = message.ThreadId ?? "",
            ["labels"] = string.Join(',', message.LabelIds ?? [])
        };
        return MailItemFactory.FromRaw(id, raw, metadata);
    }

    private static SourceItem Tombstone(string id) =>
        new(id, "(deleted)", null, null, MailItemFactory.ContentType, null, null, new Dictionary<string, string>(), Deleted: true);

    private async Task<T> GetJsonAsync<T>(Session session, string url, string what, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(session, url, cancellationToken);
        EnsureSuccess(response, what);
        return await ReadJsonAsync<T>(response, what, cancellationToken);
    }

    private static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(GmailApi.Json, cancellationToken)
                ?? throw new HttpRequestException($"Gmail answered an empty body for {what}.");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new HttpRequestException($"Gmail answered malformed JSON for {what}.", ex);
        }
    }

    /// <summary>
    /// Anything still failing here already went through the resilience handler's retries; throwing lets the run
    /// engine retry the page later from its checkpoint.
    /// </summary>
    private static void EnsureSuccess(HttpResponseMessage response, string what)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var retryAfter = response.Headers.RetryAfter?.Delta is { } delta ? $", retry after {delta.TotalSeconds:0}s" : "";
        throw new HttpRequestException(
            $"Gmail answered {(int)response.StatusCode} {response.ReasonPhrase} for {what}{retryAfter}.", null, response.StatusCode);
    }

    /// <summary>Sends with the connection's token; on a 401, once more with a forced refresh, then gives up.</summary>
    private async Task<HttpResponseMessage> SendAsync(Session session, string url, CancellationToken cancellationToken)
    {
        var token = await session.GetTokenAsync(cancellationToken);
        var response = await SendOnceAsync(session.Client, url, token, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        response.Dispose();
        token = await session.RenewAsync(token, cancellationToken);
        response = await SendOnceAsync(session.Client, url, token, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        response.Dispose();
        throw new ReauthRequiredException("Gmail rejected the credentials");
    }

    private static async Task<HttpResponseMessage> SendOnceAsync(HttpClient client, string url, string token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
    }

    /// <summary>
    /// The token for one page, shared by its parallel fetches. Calls to the token source are serialized (it may hold
    /// a scoped DbContext), and concurrent 401s on the same token lead to a single forced refresh.
    /// </summary>
    private sealed class Session(IConnectionTokenSource tokens, HttpClient client, Guid connectionId)
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private string? _token;

        public HttpClient Client => client;

        public async Task<string> GetTokenAsync(CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _token) is { } token)
            {
                return token;
            }

            await _gate.WaitAsync(cancellationToken);
            try
            {
                return _token ??= await tokens.GetAccessTokenAsync(connectionId, forceRefresh: false, cancellationToken);
            }
            finally
            {
                _gate.Release();
            }
        }

        public async Task<string> RenewAsync(string rejected, CancellationToken cancellationToken)
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                if (_token is not null && _token != rejected)
                {
                    return _token;
                }

                return _token = await tokens.GetAccessTokenAsync(connectionId, forceRefresh: true, cancellationToken);
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
