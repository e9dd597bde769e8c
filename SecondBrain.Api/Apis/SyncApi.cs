using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Common;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Sync;
using StackExchange.Redis;

namespace Microsoft.AspNetCore.Builder;

public static class SyncApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static RouteGroupBuilder MapSyncApi(this IEndpointRouteBuilder app)
    {
        var maxUploadBytes = app.ServiceProvider.GetRequiredService<IOptions<SyncOptions>>().Value.MaxUploadBytes;
        var api = app.MapGroup("/api/sync").WithTags("Sync");

        api.MapPost("/{source}", StartAsync)
            .DisableAntiforgery()
            .WithMetadata(new RequestSizeLimitAttribute(maxUploadBytes))
            .WithFormOptions(multipartBodyLengthLimit: maxUploadBytes)
            .WithName("StartSync")
            .WithSummary("Start a sync (gmail, slack, box) or an import (email-archive, slack-export: multipart 'file'). 202 with the run; 409 if one is active.");
        api.MapGet("/runs", ListAsync)
            .WithName("ListSyncRuns")
            .WithSummary("The tenant's runs, newest first (filters: source, status).");
        api.MapGet("/runs/{id:guid}", GetAsync)
            .WithName("GetSyncRun")
            .WithSummary("One run: durable status and counts, with live progress while it runs.");
        api.MapGet("/runs/{id:guid}/failures", FailuresAsync)
            .WithName("ListSyncRunFailures")
            .WithSummary("Items the run could not take, with reasons.");
        api.MapGet("/runs/{id:guid}/events", EventsAsync)
            .WithName("SyncRunEvents")
            .WithSummary("Server-Sent Events with the run's progress, from any instance; ends with the final state.");
        api.MapPost("/runs/{id:guid}/cancel", CancelAsync)
            .WithName("CancelSyncRun")
            .WithSummary("Ask the run to stop; the worker observes it within about a second.");

        return api;
    }

    public static async Task<Results<Accepted<SyncRunResponse>, ProblemHttpResult>> StartAsync(
        string source, HttpRequest request, SyncRunService runs, CancellationToken ct)
    {
        UploadedFile? file = null;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            if ((form.Files.GetFile("file") ?? form.Files.FirstOrDefault()) is { } formFile)
            {
                file = new UploadedFile(formFile.FileName, formFile.ContentType ?? "application/octet-stream", formFile.Length, formFile.OpenReadStream);
            }
        }

        var outcome = await runs.StartAsync(source, file, ct);
        return outcome.Succeeded
            ? TypedResults.Accepted($"/api/sync/runs/{outcome.Value!.Id}", outcome.Value)
            : outcome.Problem!.ToHttpResult(request.HttpContext);
    }

    public static async Task<Ok<PagedResult<SyncRunResponse>>> ListAsync(
        SyncRunService runs, CancellationToken ct, int page = 1, int pageSize = 50, string? source = null, string? status = null) =>
        TypedResults.Ok(await runs.ListAsync(new PageRequest(page, pageSize), source, status, ct));

    public static async Task<Results<Ok<SyncRunResponse>, ProblemHttpResult>> GetAsync(Guid id, SyncRunService runs, HttpContext http, CancellationToken ct) =>
        await runs.GetAsync(id, ct) is { } run ? TypedResults.Ok(run) : ApiProblem.NotFound("The sync run").ToHttpResult(http);

    public static async Task<Results<Ok<PagedResult<SyncFailedItemResponse>>, ProblemHttpResult>> FailuresAsync(
        Guid id, SyncRunService runs, HttpContext http, CancellationToken ct, int page = 1, int pageSize = 50) =>
        await runs.FailuresAsync(id, new PageRequest(page, pageSize), ct) is { } failures
            ? TypedResults.Ok(failures)
            : ApiProblem.NotFound("The sync run").ToHttpResult(http);

    public static async Task<Results<Accepted<SyncRunResponse>, ProblemHttpResult>> CancelAsync(Guid id, SyncRunService runs, HttpContext http, CancellationToken ct)
    {
        var outcome = await runs.CancelAsync(id, ct);
        return outcome.Succeeded ? TypedResults.Accepted($"/api/sync/runs/{id}", outcome.Value) : outcome.Problem!.ToHttpResult(http);
    }

    /// <summary>
    /// SSE from whichever instance the client reached: the worker publishes to Redis, every instance can subscribe.
    /// A periodic re-read of the Redis hash covers a missed message; comments keep proxies from closing the stream.
    /// </summary>
    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> EventsAsync(
        Guid id, SyncRunService runs, SyncProgress progress, IConnectionMultiplexer redis, IOptions<SseOptions> sse, HttpContext http, CancellationToken ct)
    {
        var run = await runs.GetAsync(id, ct);
        if (run is null)
        {
            return ApiProblem.NotFound("The sync run").ToHttpResult(http);
        }

        var updates = System.Threading.Channels.Channel.CreateBounded<SyncProgressSnapshot>(
            new System.Threading.Channels.BoundedChannelOptions(64) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest });
        var subscriber = redis.GetSubscriber();
        var channel = SyncProgress.EventsChannel(id);
        Action<RedisChannel, RedisValue> handler = (_, message) =>
        {
            if (SyncProgress.Deserialize(message) is { } snapshot)
            {
                updates.Writer.TryWrite(snapshot);
            }
        };
        await subscriber.SubscribeAsync(channel, handler);

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        try
        {
            long lastSequence = -1;
            var lastStatus = run.Status;
            var lastKeepAlive = DateTimeOffset.UtcNow;
            await WriteAsync(http, "progress", run, ct);
            if (SyncRunStatuses.IsFinal(run.Status))
            {
                return TypedResults.Empty;
            }

            while (!ct.IsCancellationRequested)
            {
                SyncProgressSnapshot? snapshot = null;
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    wait.CancelAfter(sse.Value.PollInterval);
                    try
                    {
                        snapshot = await updates.Reader.ReadAsync(wait.Token);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        snapshot = await progress.ReadAsync(id);
                    }
                }

                if (snapshot is not null && (snapshot.Sequence > lastSequence || snapshot.Status != lastStatus))
                {
                    lastSequence = snapshot.Sequence;
                    lastStatus = snapshot.Status;
                    var current = await runs.GetAsync(id, ct);
                    if (current is not null)
                    {
                        await WriteAsync(http, "progress", current, ct);
                        if (SyncRunStatuses.IsFinal(current.Status))
                        {
                            break;
                        }
                    }
                }

                if (DateTimeOffset.UtcNow - lastKeepAlive >= sse.Value.KeepAliveInterval)
                {
                    await http.Response.WriteAsync(": keep-alive\n\n", ct);
                    await http.Response.Body.FlushAsync(ct);
                    lastKeepAlive = DateTimeOffset.UtcNow;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            await subscriber.UnsubscribeAsync(channel, handler);
        }

        return TypedResults.Empty;
    }

    private static async Task WriteAsync(HttpContext http, string eventName, SyncRunResponse run, CancellationToken ct)
    {
        await http.Response.WriteAsync($"event: {eventName}\nid: {run.UpdatedAt.ToUnixTimeMilliseconds()}\ndata: {JsonSerializer.Serialize(run, Json)}\n\n", ct);
        await http.Response.Body.FlushAsync(ct);
    }
}

public sealed class SseOptions
{
    public const string SectionName = "Api:ServerSentEvents";

    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the stream re-reads the live progress in case a pub/sub message was missed.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);
}
