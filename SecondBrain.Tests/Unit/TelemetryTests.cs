using Microsoft.Extensions.Configuration;
using SecondBrain.ServiceDefaults.Telemetry;

namespace SecondBrain.Tests.Unit;

public sealed class TelemetryTests
{
    [Theory]
    [InlineData("service.instance.id=api-abc123", "api-abc123")]
    [InlineData("deployment.environment=dev, service.instance.id = worker-x ,foo=bar", "worker-x")]
    [InlineData("service.instance.id=", null)]
    [InlineData("foo=bar", null)]
    [InlineData(null, null)]
    public void Resource_attribute_parsing_finds_the_replica_name(string? attributes, string? expected) =>
        Assert.Equal(expected, InstanceIdentity.ParseResourceAttribute(attributes, "service.instance.id"));

    [Fact]
    public void Instance_id_names_the_service_the_replica_and_the_process()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_SERVICE_NAME"] = "api",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "service.instance.id=qwerty"
        }).Build();

        var identity = InstanceIdentity.Create("SecondBrain.Api", config);

        Assert.Equal("api", identity.ServiceName);
        Assert.Equal($"api-qwerty-{Environment.ProcessId}", identity.InstanceId);
    }

    [Fact]
    public void Bounded_cache_never_exceeds_its_capacity_and_counts_hits_misses_and_evictions()
    {
        var registry = new BoundedCacheRegistry();
        using var cache = new BoundedMemoryCache<int, string>("test-cache", capacity: 100, registry);

        for (var i = 0; i < 10_000; i++)
        {
            cache.Set(i, i.ToString());
            Assert.True(cache.Count <= 100, $"count {cache.Count} exceeded the capacity after {i + 1} inserts");
        }

        var hits = 0;
        for (var i = 0; i < 10_000; i++)
        {
            if (cache.TryGetValue(i, out var value))
            {
                Assert.Equal(i.ToString(), value);
                hits++;
            }
        }

        // Compaction and its eviction callbacks run on the thread pool; give them a moment to be counted.
        for (var wait = 0; wait < 50 && registry.Snapshot()[0].Evictions == 0; wait++)
        {
            Thread.Sleep(20);
        }

        var stats = Assert.Single(registry.Snapshot());
        Assert.Equal("test-cache", stats.Name);
        Assert.Equal(100, stats.Capacity);
        Assert.InRange(stats.Entries, 1, 100);
        Assert.Equal(hits, stats.Hits);
        Assert.Equal(10_000 - hits, stats.Misses);
        Assert.True(stats.Evictions > 0, "compaction evicted entries and counted them");
    }

    [Fact]
    public void Registry_refuses_two_caches_with_one_name_and_forgets_disposed_ones()
    {
        var registry = new BoundedCacheRegistry();
        var first = new BoundedMemoryCache<string, int>("dup", 10, registry);
        Assert.Throws<InvalidOperationException>(() => new BoundedMemoryCache<string, int>("dup", 10, registry));
        first.Dispose();
        Assert.Empty(registry.Snapshot());
        using var again = new BoundedMemoryCache<string, int>("dup", 10, registry);
        Assert.Single(registry.Snapshot());
    }
}
