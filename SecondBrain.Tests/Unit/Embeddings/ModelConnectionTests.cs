using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SecondBrain.Core.AI;
using SecondBrain.TestSupport.StandIns;
using StackExchange.Redis;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Unit.Embeddings;

/// <summary>One connection string form for every OpenAI-compatible model server, against a stand-in that speaks the API.</summary>
public sealed class ModelConnectionTests : IDisposable
{
    private readonly OpenAICompatibleStandIn _server = new();

    public void Dispose() => _server.Dispose();

    [Theory]
    [InlineData("Endpoint=https://contoso.openai.azure.com/;Key=k;ChatModel=gpt-4o-mini;EmbeddingModel=text-embedding-3-small", ModelProvider.Azure)]
    [InlineData("Endpoint=https://contoso.cognitiveservices.azure.com/;Key=k;ChatDeployment=chat", ModelProvider.Azure)]
    [InlineData("Endpoint=https://api.openai.com/v1;Key=sk-x;ChatModel=gpt-4o-mini", ModelProvider.OpenAI)]
    [InlineData("Endpoint=http://localhost:11434/v1;Key=ollama;ChatModel=llama3.2;EmbeddingModel=nomic-embed-text", ModelProvider.OpenAI)]
    [InlineData("Endpoint=https://my-gateway.example/;Key=k;Provider=azure;ChatModel=c", ModelProvider.Azure)]
    public void The_provider_is_detected_from_the_endpoint_or_named(string connection, ModelProvider expected) =>
        Assert.Equal(expected, ModelConnection.TryParse(connection)!.Provider);

    [Fact]
    public void An_unknown_provider_is_a_clear_error() =>
        Assert.Contains("Provider must be azure or openai",
            Assert.Throws<InvalidOperationException>(() => ModelConnection.TryParse("Endpoint=http://x/;Key=k;Provider=bard")).Message);

    [Fact]
    public async Task Chat_streaming_and_embeddings_go_to_an_openai_compatible_server()
    {
        _server.Reply = messages => $"Tom decided it. ({messages.Count} messages)";
        using var provider = Build($"Endpoint={_server.OpenAIEndpoint};Key=local;ChatModel=llama3.2;EmbeddingModel=nomic-embed-text;Dimensions=12");

        var chat = provider.GetRequiredService<IChatClient>();
        var answer = await chat.GetResponseAsync("Who decided?");
        Assert.Equal("Tom decided it. (1 messages)", answer.Text);

        var streamed = new List<string>();
        await foreach (var update in chat.GetStreamingResponseAsync([new ChatMessage(ChatRole.System, "Be brief."), new ChatMessage(ChatRole.User, "Who?")]))
        {
            if (!string.IsNullOrEmpty(update.Text))
            {
                streamed.Add(update.Text);
            }
        }

        Assert.True(streamed.Count > 1, "the answer came in pieces");
        Assert.Equal("Tom decided it. (2 messages)", string.Concat(streamed));
        Assert.Equal("llama3.2", _server.ChatRequests[^1]["model"]!.GetValue<string>());

        var embeddings = await provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>().GenerateAsync(["alpha", "beta"]);
        Assert.Equal(OpenAICompatibleStandIn.VectorFor("alpha", 12), embeddings[0].Vector.ToArray());
        Assert.Equal(1, _server.EmbeddingRequests);
    }

    private static ServiceProvider Build(string connection)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:openai"] = connection }).Build();
        var options = ConfigurationOptions.Parse($"127.0.0.1:{RedisServerFixture.FreePort()},abortConnect=false,connectTimeout=200");
        options.BacklogPolicy = BacklogPolicy.FailFast;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        services.AddSecondBrainEmbeddings(configuration);
        return services.BuildServiceProvider();
    }
}
