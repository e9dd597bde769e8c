using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Common;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Sync;
using SecondBrain.Core.Resilience;
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
            .RequireRateLimiting(RateLimitPolicies.Tenant)
            .DisableAntiforgery()
            .WithMetadata(new RequestSizeLimitAttribute(maxUploadBytes))
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

    /// <summary>An import's archive streams from the request body into storage (<see cref="MultipartUploads"/>); the Api never holds it.</summary>
    public static async Task<Results<Accepted<SyncRunResponse>, ProblemHttpResult>> StartAsync(
        string source, HttpRequest request, SyncRunService runs, IOptions<SyncOptions> sync, CancellationToken ct)
    {
        var outcome = await MultipartUploads.ReadAsync(request, async () =>
        {
            UploadedFile? file = null;
            if (request.HasFormContentType && MultipartUploads.Boundary(request) is { } boundary)
            {
                file = await MultipartUploads.FirstFileAsync(request, boundary, sync.Value.MaxUploadBytes, ct);
            }

            return await runs.StartAsync(source, file, ct);
        });
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
    /// SSE from whichever instance the client reached. The worker publishes progress to Redis and every instance can
    /// subscribe; a message only wakes the stream early, because what it sends is always the run as
    /// <see cref="SyncRunService.GetAsync"/> reads it (the durable row, with live progress when Redis has it), re-read on
    /// a timer too. So a lost message, or Redis being down, delays an update by at most the poll interval and never
    /// leaves the stream hanging after the run ended. A stream ends after <see cref="SseOptions.MaxDuration"/>; the
    /// client reconnects (EventSource does so by itself, after the announced retry delay).
    /// </summary>
    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> EventsAsync(
        Guid id, SyncRunService runs, IConnectionMultiplexer redis, IOptions<SseOptions> sse, TimeProvider time, ILoggerFactory loggers,
        HttpContext http, CancellationToken ct)
    {
        var run = await runs.GetAsync(id, ct);
        if (run is null)
        {
            return ApiProblem.NotFound("The sync run").ToHttpResult(http);
        }

        var logger = loggers.CreateLogger(typeof(SyncApi));
        var wake = new SemaphoreSlim(0, 1);
        var channel = SyncProgress.EventsChannel(id);
        Action<RedisChannel, RedisValue> handler = (_, _) =>
        {
            try
            {
                wake.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        };
        var subscriber = redis.GetSubscriber();
        var subscribed = false;
        try
        {
            await subscriber.SubscribeAsync(channel, handler);
            subscribed = true;
        }
        catch (Exception ex) when (RedisFallback.IsRedisFailure(ex))
        {
            logger.LogInformation("Run {RunId} events: no Redis subscription ({Message}), polling the run every {Interval}", id, ex.Message, sse.Value.PollInterval);
        }

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        try
        {
            var ends = time.GetUtcNow() + sse.Value.MaxDuration;
            await http.Response.WriteAsync($"retry: {(int)sse.Value.ReconnectDelay.TotalMilliseconds}\n\n", ct);
            await WriteAsync(http, "progress", run, ct);
            var last = Signature(run);
            var lastKeepAlive = time.GetUtcNow();
            while (!SyncRunStatuses.IsFinal(run.Status) && !ct.IsCancellationRequested && time.GetUtcNow() < ends)
            {
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    wait.CancelAfter(sse.Value.PollInterval);
                    try
                    {
                        await wake.WaitAsync(wait.Token);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        // The timer: re-read the run whether or not a message came.
                    }
                }

                run = await runs.GetAsync(id, ct) ?? run;
                if (Signature(run) != last)
                {
                    last = Signature(run);
                    await WriteAsync(http, "progress", run, ct);
                }
                else if (time.GetUtcNow() - lastKeepAlive >= sse.Value.KeepAliveInterval)
                {
                    await http.Response.WriteAsync(": keep-alive\n\n", ct);
                    await http.Response.Body.FlushAsync(ct);
                    lastKeepAlive = time.GetUtcNow();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            if (subscribed)
            {
                await subscriber.UnsubscribeAsync(channel, handler).OrIgnoreAsync(logger, "sync events unsubscribe");
            }
        }

        return TypedResults.Empty;
    }

    private static string Signature(SyncRunResponse run) =>
        string.Join("|", run.Status, run.Stage, run.Found, run.Processed, run.Failed, run.Percent, run.CurrentItem, run.CancelRequested);

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

    /// <summary>How often the stream re-reads the run, whatever pub/sub delivered.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A stream ends after this long and the client reconnects, so no connection lives for ever.</summary>
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The reconnect delay announced to the client (the SSE <c>retry:</c> field).</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);
}
