using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SecondBrain.Core.AI;
using StackExchange.Redis;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Unit.Embeddings;

/// <summary>Which generator <c>AddSecondBrainEmbeddings</c> picks, and the Azure OpenAI path against a stand-in.</summary>
public sealed class EmbeddingRegistrationTests : IDisposable
{
    private readonly WireMockServer _azure = WireMockServer.Start();
    private readonly List<JsonObject> _embeddingRequests = [];

    public EmbeddingRegistrationTests()
    {
        _azure.Given(Request.Create().WithPath(new WildcardMatcher("/openai/deployments/*/embeddings")).UsingPost())
            .RespondWith(Response.Create().WithCallback(Embeddings));
        _azure.Given(Request.Create().WithPath(new WildcardMatcher("/openai/deployments/*/chat/completions")).UsingPost())
            .RespondWith(Response.Create().WithCallback(_ => Json(new
            {
                id = "chatcmpl-1",
                @object = "chat.completion",
                created = 1_700_000_000,
                model = "gpt-4o-mini",
                choices = new[] { new { index = 0, message = new { role = "assistant", content = "Ada owns billing." }, finish_reason = "stop" } },
                usage = new { prompt_tokens = 5, completion_tokens = 4, total_tokens = 9 }
            })));
    }

    public void Dispose() => _azure.Dispose();

    [Fact]
    public void Parses_the_openai_connection_string()
    {
        var connection = ModelConnection.TryParse("Endpoint=https://example.openai.azure.com/;Key=secret;Deployment=text-embedding-3-small;ChatDeployment=gpt-4o-mini;Dimensions=256")!;

        Assert.Equal(new Uri("https://example.openai.azure.com/"), connection.Endpoint);
        Assert.Equal("secret", connection.Key);
        Assert.Equal("text-embedding-3-small", connection.EmbeddingModel);
        Assert.Equal("gpt-4o-mini", connection.ChatModel);
        Assert.Equal(256, connection.Dimensions);
        Assert.Equal("emb", ModelConnection.TryParse("Endpoint=https://x/;Key=k;Deployment=old;EmbeddingDeployment=emb")!.EmbeddingModel);
        Assert.Null(ModelConnection.TryParse("Endpoint=https://x/;Deployment=d"));
        Assert.Null(ModelConnection.TryParse("Key=k;Deployment=d"));
        Assert.Null(ModelConnection.TryParse(""));
        Assert.Null(ModelConnection.TryParse(null));
    }

    [Fact]
    public void Without_azure_the_local_model_is_registered_and_there_is_no_chat_client()
    {
        using var provider = Build(new Dictionary<string, string?> { ["Embeddings:L1Capacity"] = "123" });

        Assert.IsType<LocalMiniLmEmbeddingGenerator>(provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>());
        Assert.Null(provider.GetService<IChatClient>());
        var service = provider.GetRequiredService<CachedEmbeddingService>();
        Assert.Equal(("local", "all-MiniLM-L6-v2", 384), (service.Provider, service.Model, service.Dimensions ?? 0));
        Assert.Same(service, provider.GetRequiredService<CachedEmbeddingService>());
    }

    [Fact]
    public async Task With_azure_embeddings_and_chat_go_to_the_configured_endpoint()
    {
        using var provider = Build(new Dictionary<string, string?>
        {
            ["ConnectionStrings:openai"] = $"Endpoint={_azure.Urls[0]}/;Key=test-key;Provider=azure;Deployment=text-embedding-3-small;ChatDeployment=gpt-4o-mini;Dimensions=8"
        });

        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        Assert.IsNotType<LocalMiniLmEmbeddingGenerator>(generator);
        var embeddings = await generator.GenerateAsync(["first text", "second text"]);

        Assert.Equal(2, embeddings.Count);
        Assert.Equal(DeterministicEmbeddingGenerator.VectorFor("first text", 8), embeddings[0].Vector.ToArray());
        Assert.Equal(DeterministicEmbeddingGenerator.VectorFor("second text", 8), embeddings[1].Vector.ToArray());
        var request = Assert.Single(_embeddingRequests);
        Assert.Equal(8, request["dimensions"]!.GetValue<int>());
        Assert.Single(_azure.LogEntries, e => e.RequestMessage.Path == "/openai/deployments/text-embedding-3-small/embeddings"
            && e.RequestMessage.Headers!["api-key"].Single() == "test-key");

        var service = provider.GetRequiredService<CachedEmbeddingService>();
        Assert.Equal("text-embedding-3-small", service.Model);
        Assert.Equal(8, service.Dimensions);

        var chat = provider.GetRequiredService<IChatClient>();
        var answer = await chat.GetResponseAsync("Who owns billing?");
        Assert.Equal("Ada owns billing.", answer.Text);
        Assert.Single(_azure.LogEntries, e => e.RequestMessage.Path == "/openai/deployments/gpt-4o-mini/chat/completions");
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = ConfigurationOptions.Parse($"127.0.0.1:{RedisServerFixture.FreePort()},abortConnect=false,connectTimeout=200");
        options.BacklogPolicy = BacklogPolicy.FailFast;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        services.AddSecondBrainEmbeddings(configuration);
        return services.BuildServiceProvider();
    }

    private ResponseMessage Embeddings(IRequestMessage request)
    {
        var body = JsonNode.Parse(request.Body!)!.AsObject();
        lock (_embeddingRequests)
        {
            _embeddingRequests.Add(body);
        }

        var dimensions = body["dimensions"]?.GetValue<int>() ?? 1536;
        var base64 = body["encoding_format"]?.GetValue<string>() == "base64";
        var inputs = body["input"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
        var data = inputs.Select((text, index) =>
        {
            var vector = DeterministicEmbeddingGenerator.VectorFor(text, dimensions);
            JsonNode embedding = base64
                ? JsonValue.Create(Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan())))
                : new JsonArray(vector.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
            return new JsonObject { ["object"] = "embedding", ["index"] = index, ["embedding"] = embedding };
        });
        return Json(new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(data.Cast<JsonNode?>().ToArray()),
            ["model"] = body["model"]?.GetValue<string>() ?? "text-embedding-3-small",
            ["usage"] = new JsonObject { ["prompt_tokens"] = 4, ["total_tokens"] = 4 }
        });
    }

    private static ResponseMessage Json(object body)
    {
        var response = new ResponseMessage
        {
            StatusCode = 200,
            Headers = new Dictionary<string, WireMockList<string>>(),
            BodyData = new BodyData
            {
                BodyAsString = body is JsonNode node ? node.ToJsonString() : JsonSerializer.Serialize(body),
                DetectedBodyType = BodyType.String,
                Encoding = Encoding.UTF8
            }
        };
        response.AddHeader("Content-Type", "application/json");
        return response;
    }
}
