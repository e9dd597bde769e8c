using System.ClientModel;
using System.ClientModel.Primitives;
using System.Data.Common;
using Azure;
using Azure.AI.OpenAI;
using Microsoft.Extensions.AI;
using OpenAI;

namespace SecondBrain.Core.AI;

public enum ModelProvider
{
    /// <summary>Azure OpenAI: deployments under <c>/openai/deployments/{name}</c>, key in the <c>api-key</c> header.</summary>
    Azure,

    /// <summary>OpenAI, or any server that speaks its API (Ollama, vLLM, LM Studio, llama.cpp): <c>/v1/chat/completions</c>, <c>/v1/embeddings</c>.</summary>
    OpenAI
}

/// <summary>
/// The model endpoint named by <c>ConnectionStrings:openai</c>, one form for every OpenAI-compatible service:
/// <c>Endpoint=...;Key=...;ChatModel=...;EmbeddingModel=...</c>, optionally <c>Dimensions=</c> and
/// <c>Provider=azure|openai</c>. Without <c>Provider</c>, an <c>*.openai.azure.com</c> or
/// <c>*.cognitiveservices.azure.com</c> endpoint is Azure and anything else speaks OpenAI's API (a local model server
/// needs no real key: any value will do). The Azure names <c>Deployment</c>, <c>EmbeddingDeployment</c> and
/// <c>ChatDeployment</c> are accepted too. Either model may be left out: no chat model means extractive answers, no
/// embedding model means the bundled MiniLM.
/// </summary>
public sealed record ModelConnection(ModelProvider Provider, Uri Endpoint, string Key, string? EmbeddingModel, string? ChatModel, int? Dimensions)
{
    public const string ConnectionName = "openai";

    /// <summary>The parsed connection, or null when the string is missing or lacks an endpoint or a key.</summary>
    public static ModelConnection? TryParse(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return null;
        }

        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        string? Get(string name) => builder.TryGetValue(name, out var value) && value?.ToString() is { Length: > 0 } text ? text.Trim() : null;

        if (Get("Endpoint") is not { } endpointText || !Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || Get("Key") is not { } key)
        {
            return null;
        }

        var provider = Get("Provider")?.ToLowerInvariant() switch
        {
            "azure" or "azureopenai" => ModelProvider.Azure,
            "openai" or "ollama" or "vllm" or "lmstudio" => ModelProvider.OpenAI,
            null => IsAzureHost(endpoint) ? ModelProvider.Azure : ModelProvider.OpenAI,
            var other => throw new InvalidOperationException($"ConnectionStrings:openai: Provider must be azure or openai (was '{other}').")
        };
        int? dimensions = int.TryParse(Get("Dimensions"), out var parsed) && parsed > 0 ? parsed : null;
        return new ModelConnection(provider, endpoint, key,
            Get("EmbeddingModel") ?? Get("EmbeddingDeployment") ?? Get("Deployment"),
            Get("ChatModel") ?? Get("ChatDeployment"),
            dimensions);
    }

    private static bool IsAzureHost(Uri endpoint) =>
        endpoint.Host.EndsWith(".openai.azure.com", StringComparison.OrdinalIgnoreCase)
        || endpoint.Host.EndsWith(".cognitiveservices.azure.com", StringComparison.OrdinalIgnoreCase)
        || endpoint.Host.EndsWith(".services.ai.azure.com", StringComparison.OrdinalIgnoreCase);

    public IEmbeddingGenerator<string, Embedding<float>> CreateEmbeddingGenerator()
    {
        var model = EmbeddingModel ?? throw new InvalidOperationException("The openai connection names no embedding model.");
        return Provider == ModelProvider.Azure
            ? AzureClient().GetEmbeddingClient(model).AsIEmbeddingGenerator(Dimensions)
            : OpenAIClient().GetEmbeddingClient(model).AsIEmbeddingGenerator(Dimensions);
    }

    public IChatClient CreateChatClient()
    {
        var model = ChatModel ?? throw new InvalidOperationException("The openai connection names no chat model.");
        return Provider == ModelProvider.Azure
            ? AzureClient().GetChatClient(model).AsIChatClient()
            : OpenAIClient().GetChatClient(model).AsIChatClient();
    }

    // Throttling (429) is the usual failure under a bulk import; both clients honour Retry-After between tries.
    private AzureOpenAIClient AzureClient() => new(Endpoint, new AzureKeyCredential(Key), new AzureOpenAIClientOptions
    {
        RetryPolicy = new ClientRetryPolicy(maxRetries: 5)
    });

    private OpenAIClient OpenAIClient() => new(new ApiKeyCredential(Key), new OpenAIClientOptions
    {
        Endpoint = Endpoint,
        RetryPolicy = new ClientRetryPolicy(maxRetries: 5)
    });
}
