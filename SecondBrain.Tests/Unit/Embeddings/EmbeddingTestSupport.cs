using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;
using StackExchange.Redis;

namespace SecondBrain.Tests.Unit.Embeddings;

/// <summary>
/// A fast stand-in for a model: each text maps to a fixed unit vector derived from its SHA-256, so results are
/// comparable across instances. Counts calls and texts, records each call's inputs, and can be slowed or made
/// to fail to exercise the cache's concurrency paths. Each instance has its own model id, so tests sharing a
/// Redis server never see each other's entries.
/// </summary>
public sealed class DeterministicEmbeddingGenerator(int dimensions = 384, TimeSpan? delay = null) : IEmbeddingGenerator<string, Embedding<float>>
{
    private int _calls;
    private int _texts;
    private int _failuresLeft;

    public string ModelId { get; } = "deterministic-" + Guid.NewGuid().ToString("N");

    public TimeSpan Delay { get; set; } = delay ?? TimeSpan.Zero;

    public int Calls => Volatile.Read(ref _calls);

    public int Texts => Volatile.Read(ref _texts);

    public ConcurrentQueue<string[]> Requests { get; } = new();

    /// <summary>The next <paramref name="count"/> calls throw.</summary>
    public void FailNext(int count) => Volatile.Write(ref _failuresLeft, count);

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var texts = values.ToArray();
        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _texts, texts.Length);
        Requests.Enqueue(texts);
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, cancellationToken);
        }

        if (Interlocked.Decrement(ref _failuresLeft) >= 0)
        {
            throw new InvalidOperationException("The stand-in model failed on purpose.");
        }

        return [.. texts.Select(text => new Embedding<float>(VectorFor(text, dimensions)))];
    }

    public static float[] VectorFor(string text, int dimensions)
    {
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        var random = new Random(BitConverter.ToInt32(seed));
        var vector = new float[dimensions];
        var norm = 0.0;
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(random.NextDouble() - 0.5);
            norm += vector[i] * vector[i];
        }

        var scale = (float)(1 / Math.Sqrt(norm));
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] *= scale;
        }

        return vector;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(EmbeddingGeneratorMetadata) ? new EmbeddingGeneratorMetadata("test", defaultModelId: ModelId, defaultModelDimensions: dimensions)
        : serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
