using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace SecondBrain.TestSupport.StandIns;

/// <summary>
/// A model server on WireMock.Net speaking the OpenAI API as OpenAI, Ollama, vLLM and LM Studio do
/// (<c>POST /v1/chat/completions</c>, with <c>stream: true</c> answered as Server-Sent Events of
/// <c>chat.completion.chunk</c>s ending in <c>data: [DONE]</c>; <c>POST /v1/embeddings</c>), and the Azure OpenAI
/// deployment paths too. Replies are scripted by the test (<see cref="Reply"/>); every request is kept.
/// </summary>
public sealed class OpenAICompatibleStandIn : IDisposable
{
    private readonly WireMockServer _server = WireMockServer.Start();
    private readonly ConcurrentQueue<JsonObject> _chatRequests = new();
    private int _embeddingRequests;

    public OpenAICompatibleStandIn()
    {
        foreach (var path in new[] { "/v1/chat/completions", "/openai/deployments/*/chat/completions" })
        {
            _server.Given(Request.Create().WithPath(new WildcardMatcher(path)).UsingPost()).RespondWith(Response.Create().WithCallback(Chat));
        }

        foreach (var path in new[] { "/v1/embeddings", "/openai/deployments/*/embeddings" })
        {
            _server.Given(Request.Create().WithPath(new WildcardMatcher(path)).UsingPost()).RespondWith(Response.Create().WithCallback(Embeddings));
        }
    }

    /// <summary>The OpenAI-style base address (what <c>Endpoint=</c> names for Provider=openai).</summary>
    public string OpenAIEndpoint => _server.Url + "/v1/";

    public string Url => _server.Url!;

    /// <summary>The reply to a chat request, from its messages (role, content); by default it repeats the last user message.</summary>
    public Func<IReadOnlyList<(string Role, string Content)>, string> Reply { get; set; } = messages => "You asked: " + messages.Last(m => m.Role == "user").Content;

    public IReadOnlyList<JsonObject> ChatRequests => _chatRequests.ToList();

    /// <summary>How long a chat answer takes to start: long enough to watch it from elsewhere while it is pending.</summary>
    public TimeSpan ChatDelay { get; set; }

    public int EmbeddingRequests => Volatile.Read(ref _embeddingRequests);

    /// <summary>The messages of a recorded chat request.</summary>
    public static IReadOnlyList<(string Role, string Content)> Messages(JsonObject request) =>
        request["messages"]!.AsArray().Select(m => (m!["role"]!.GetValue<string>(), ContentOf(m["content"]))).ToList();

    /// <summary>The deterministic unit vector the stand-in returns for a text.</summary>
    public static float[] VectorFor(string text, int dimensions)
    {
        var vector = new float[dimensions];
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (seed[i % seed.Length] - 127.5f) / 127.5f + i % 7 * 0.01f;
        }

        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        return vector.Select(v => v / norm).ToArray();
    }

    private static string ContentOf(JsonNode? content) => content switch
    {
        JsonValue value => value.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
        _ => ""
    };

    private ResponseMessage Chat(IRequestMessage request)
    {
        var body = JsonNode.Parse(request.Body!)!.AsObject();
        _chatRequests.Enqueue(body);
        if (ChatDelay > TimeSpan.Zero)
        {
            Thread.Sleep(ChatDelay);
        }

        var reply = Reply(Messages(body));
        var model = body["model"]?.GetValue<string>() ?? "stand-in";
        if (body["stream"]?.GetValue<bool>() == true)
        {
            var events = new StringBuilder();
            var words = reply.Split(' ');
            for (var i = 0; i < words.Length; i++)
            {
                var piece = i == 0 ? words[i] : " " + words[i];
                events.Append("data: ").Append(JsonSerializer.Serialize(new
                {
                    id = "chatcmpl-stand-in", @object = "chat.completion.chunk", created = 1_700_000_000, model,
                    choices = new[] { new { index = 0, delta = new { role = i == 0 ? "assistant" : null, content = piece }, finish_reason = (string?)null } }
                })).Append("\n\n");
            }

            events.Append("data: ").Append(JsonSerializer.Serialize(new
            {
                id = "chatcmpl-stand-in", @object = "chat.completion.chunk", created = 1_700_000_000, model,
                choices = new[] { new { index = 0, delta = new { }, finish_reason = "stop" } }
            })).Append("\n\ndata: [DONE]\n\n");
            return Respond(events.ToString(), "text/event-stream");
        }

        return Respond(JsonSerializer.Serialize(new
        {
            id = "chatcmpl-stand-in", @object = "chat.completion", created = 1_700_000_000, model,
            choices = new[] { new { index = 0, message = new { role = "assistant", content = reply }, finish_reason = "stop" } },
            usage = new { prompt_tokens = 10, completion_tokens = 10, total_tokens = 20 }
        }), "application/json");
    }

    private ResponseMessage Embeddings(IRequestMessage request)
    {
        Interlocked.Increment(ref _embeddingRequests);
        var body = JsonNode.Parse(request.Body!)!.AsObject();
        var dimensions = body["dimensions"]?.GetValue<int>() ?? 16;
        var base64 = body["encoding_format"]?.GetValue<string>() == "base64";
        var inputs = body["input"] switch
        {
            JsonArray array => array.Select(n => n!.GetValue<string>()).ToArray(),
            var single => [single!.GetValue<string>()]
        };
        var data = inputs.Select((text, index) =>
        {
            var vector = VectorFor(text, dimensions);
            JsonNode embedding = base64
                ? JsonValue.Create(Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan())))
                : new JsonArray(vector.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
            return (JsonNode)new JsonObject { ["object"] = "embedding", ["index"] = index, ["embedding"] = embedding };
        });
        return Respond(new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(data.ToArray()),
            ["model"] = body["model"]?.GetValue<string>() ?? "stand-in-embedding",
            ["usage"] = new JsonObject { ["prompt_tokens"] = 4, ["total_tokens"] = 4 }
        }.ToJsonString(), "application/json");
    }

    private static ResponseMessage Respond(string body, string contentType)
    {
        var response = new ResponseMessage
        {
            StatusCode = 200,
            Headers = new Dictionary<string, WireMockList<string>>(),
            BodyData = new BodyData { BodyAsString = body, DetectedBodyType = BodyType.String, Encoding = Encoding.UTF8 }
        };
        response.AddHeader("Content-Type", contentType);
        return response;
    }

    public void Dispose() => _server.Stop();
}
