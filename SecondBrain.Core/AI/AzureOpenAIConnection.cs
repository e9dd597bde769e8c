using System.ClientModel.Primitives;
using System.Data.Common;
using Azure;
using Azure.AI.OpenAI;
using Microsoft.Extensions.AI;

namespace SecondBrain.Core.AI;

/// <summary>
/// The Azure OpenAI resource named by <c>ConnectionStrings:openai</c>:
/// <c>Endpoint=https://...;Key=...;Deployment=text-embedding-3-small</c>, optionally with <c>EmbeddingDeployment</c>
/// (instead of <c>Deployment</c>), <c>ChatDeployment</c> and <c>Dimensions</c>. Any endpoint works, so a stand-in
/// server can take Azure's place in tests.
/// </summary>
public sealed record AzureOpenAIConnection(Uri Endpoint, string Key, string? EmbeddingDeployment, string? ChatDeployment, int? Dimensions)
{
    public const string ConnectionName = "openai";

    /// <summary>The parsed connection, or null when the string is missing or lacks an endpoint or a key.</summary>
    public static AzureOpenAIConnection? TryParse(string? connectionString)
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

        int? dimensions = int.TryParse(Get("Dimensions"), out var parsed) && parsed > 0 ? parsed : null;
        return new AzureOpenAIConnection(endpoint, key, Get("EmbeddingDeployment") ?? Get("Deployment"), Get("ChatDeployment"), dimensions);
    }

    public IEmbeddingGenerator<string, Embedding<float>> CreateEmbeddingGenerator()
    {
        var deployment = EmbeddingDeployment ?? throw new InvalidOperationException("The openai connection names no embedding deployment.");
        return CreateClient().GetEmbeddingClient(deployment).AsIEmbeddingGenerator(Dimensions);
    }

    public IChatClient CreateChatClient()
    {
        var deployment = ChatDeployment ?? throw new InvalidOperationException("The openai connection names no chat deployment.");
        return CreateClient().GetChatClient(deployment).AsIChatClient();
    }

    private AzureOpenAIClient CreateClient() => new(Endpoint, new AzureKeyCredential(Key), new AzureOpenAIClientOptions
    {
        // Throttling (429) is the usual failure under a bulk import; the client honours Retry-After between tries.
        RetryPolicy = new ClientRetryPolicy(maxRetries: 5)
    });
}
