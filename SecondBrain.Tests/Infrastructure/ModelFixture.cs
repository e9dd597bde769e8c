using SecondBrain.TestSupport.StandIns;

namespace SecondBrain.Tests.Infrastructure;

/// <summary>
/// A stack with a language model configured: an OpenAI-compatible stand-in (as Ollama, vLLM or LM Studio would be)
/// through the same <c>ConnectionStrings:openai</c> a deployment sets; embeddings stay on the local model.
/// </summary>
public sealed class ModelFixture : SecondBrainAppFixture
{
    public OpenAICompatibleStandIn Model { get; } = new();

    protected override int ApiCount => 2;

    protected override int WorkerCount => 1;

    protected override void Configure(Dictionary<string, string> settings) =>
        settings["ConnectionStrings:openai"] = $"Endpoint={Model.OpenAIEndpoint};Key=local-model;ChatModel=stand-in-chat;Provider=openai";

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Model.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ModelCollection : ICollectionFixture<ModelFixture>
{
    public const string Name = "SecondBrain app with a language model";
}
