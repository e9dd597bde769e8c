using System.Text.Json;

namespace SecondBrain.Api.Infrastructure;

/// <summary>The one way endpoints write Server-Sent Events: headers that keep proxies from buffering, one event per write, flushed.</summary>
internal static class ServerSentEvents
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static bool Wanted(HttpRequest request) =>
        request.Headers.Accept.Any(a => a?.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) == true);

    public static void Start(HttpContext http)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
    }

    public static async Task WriteAsync(HttpContext http, string name, object data, CancellationToken ct, string? id = null)
    {
        var idLine = id is null ? "" : $"id: {id}\n";
        await http.Response.WriteAsync($"event: {name}\n{idLine}data: {JsonSerializer.Serialize(data, Json)}\n\n", ct);
        await http.Response.Body.FlushAsync(ct);
    }
}
