using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Qdrant.Client;
using SecondBrain.Core.Search;
using SecondBrain.Core.Search.Vectors;

namespace SecondBrain.Tests.Unit.VectorIndex;

/// <summary>
/// The shared behaviours against a real Qdrant, when SECONDBRAIN_QDRANT names one. Each test class instance works
/// in collections of its own (a unique model name) and drops them afterwards.
/// </summary>
public sealed class QdrantVectorIndexTests : IAsyncLifetime
{
    private readonly QdrantClient? _client;
    private readonly QdrantVectorIndex? _index;
    private readonly string _model = $"test_{Guid.NewGuid():N}"[..20];

    public QdrantVectorIndexTests()
    {
        if (QdrantFactAttribute.ConnectionString is { } connectionString)
        {
            _client = QdrantVectorIndex.CreateClient(connectionString);
            _index = new QdrantVectorIndex(_client, Options.Create(new VectorIndexOptions { Model = _model, UpsertBatchSize = 7 }));
        }
    }

    [QdrantFact]
    public Task Round_trip() => VectorIndexBehaviours.RoundTripAsync(Harness());

    [QdrantFact]
    public Task Tenant_isolation() => VectorIndexBehaviours.TenantIsolationAsync(Harness());

    [QdrantFact]
    public Task Filters_by_source_author_and_date() => VectorIndexBehaviours.FiltersAsync(Harness());

    [QdrantFact]
    public Task Delete_by_document() => VectorIndexBehaviours.DeleteDocumentAsync(Harness());

    [QdrantFact]
    public async Task Ensure_ready_is_safe_when_instances_race()
    {
        var others = Enumerable.Range(0, 4)
            .Select(_ => new QdrantVectorIndex(_client!, Options.Create(new VectorIndexOptions { Model = _model })))
            .ToList();
        await Task.WhenAll(others.Select(o => o.EnsureReadyAsync(VectorIndexBehaviours.Dimensions, CancellationToken.None)));
        Assert.True(await _client!.CollectionExistsAsync(_index!.CollectionName(VectorIndexBehaviours.Dimensions)));
        Assert.Empty(await _index.SearchAsync(Guid.NewGuid(), new float[VectorIndexBehaviours.Dimensions + 1].Select((_, i) => i + 1f).ToArray(), 5, null, CancellationToken.None));
    }

    [Fact]
    public void Registration_picks_qdrant_when_its_connection_string_is_set()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddVectorIndex(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:qdrant"] = "Endpoint=http://localhost:6334;Key=secret" })
            .Build());
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });

        var index = provider.GetRequiredService<IVectorIndex>();
        Assert.IsType<QdrantVectorIndex>(index);
        Assert.Equal("qdrant", index.Name);
        Assert.Same(index, provider.GetRequiredService<IVectorIndex>());
        Assert.Equal("chunks_minilm_384", ((QdrantVectorIndex)index).CollectionName(384));
        Assert.Throws<InvalidOperationException>(() => QdrantVectorIndex.CreateClient("Key=secret"));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_client is null)
        {
            return;
        }

        foreach (var collection in await _client.ListCollectionsAsync())
        {
            if (collection.StartsWith($"chunks_{_model}_", StringComparison.Ordinal))
            {
                await _client.DeleteCollectionAsync(collection);
            }
        }

        _client.Dispose();
    }

    private QdrantHarness Harness() => new(_index!);

    private sealed class QdrantHarness(QdrantVectorIndex index) : IVectorIndexHarness
    {
        public IVectorIndex Index => index;

        public Task StoreAsync(Guid tenantId, IReadOnlyList<VectorRecord> records) => index.UpsertAsync(tenantId, records, CancellationToken.None);

        public Task RemoveRowsAsync(Guid tenantId, Guid documentId) => Task.CompletedTask; // Qdrant holds no chunk rows
    }
}

/// <summary>A fact that needs a Qdrant endpoint; skipped, saying how to provide one, when SECONDBRAIN_QDRANT is not set.</summary>
public sealed class QdrantFactAttribute : FactAttribute
{
    public static string? ConnectionString =>
        Environment.GetEnvironmentVariable("SECONDBRAIN_QDRANT") is { Length: > 0 } value ? value : null;

    public QdrantFactAttribute()
    {
        if (ConnectionString is null)
        {
            Skip = "Qdrant tests need a Qdrant endpoint: set SECONDBRAIN_QDRANT=Endpoint=http://host:6334;Key=...";
        }
    }
}
