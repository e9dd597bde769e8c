using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SecondBrain.Core.AI;
using SecondBrain.ServiceDefaults.Telemetry;
using StackExchange.Redis;

using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Unit.Embeddings;

/// <summary>
/// The two-level embedding cache against a real Redis. Each <see cref="CachedEmbeddingService"/> built here plays
/// one instance: its own L1 and cache registry, the shared Redis as L2.
/// </summary>
public sealed class CachedEmbeddingServiceTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private CachedEmbeddingService Instance(
        DeterministicEmbeddingGenerator generator,
        BoundedCacheRegistry? registry = null,
        int l1Capacity = 20_000,
        int batchSize = 128,
        TimeSpan? lockTimeout = null,
        IConnectionMultiplexer? connection = null) =>
        new(generator, connection ?? redis.Connection, registry ?? new BoundedCacheRegistry(), Options.Create(new EmbeddingOptions
        {
            L1Capacity = l1Capacity,
            BatchSize = batchSize,
            LockTimeout = lockTimeout ?? TimeSpan.FromSeconds(10)
        }), NullLogger<CachedEmbeddingService>.Instance);

    [RedisFact]
    public async Task A_text_is_embedded_once_across_two_instances_and_a_restart()
    {
        var generator = new DeterministicEmbeddingGenerator();
        const string text = "Decisions about the Q3 roadmap are recorded in the planning doc.";

        ReadOnlyMemory<float> first, second, afterRestart;
        using (var instanceA = Instance(generator))
        using (var instanceB = Instance(generator))
        {
            first = await instanceA.EmbedOneAsync(text);
            second = await instanceB.EmbedOneAsync(text);

            Assert.Equal(1, generator.Calls);
            Assert.Equal(1, instanceA.GeneratorCalls);
            Assert.Equal(0, instanceB.GeneratorCalls);
            Assert.Equal(1, instanceB.L2Hits);

            // Now in B's L1 as well.
            await instanceB.EmbedOneAsync(text);
            Assert.Equal(1, instanceB.L1Hits);
        }

        using (var restarted = Instance(generator))
        {
            afterRestart = await restarted.EmbedOneAsync(text);
            Assert.Equal(1, restarted.L2Hits);
            Assert.Equal(0, restarted.GeneratorCalls);
        }

        Assert.Equal(1, generator.Calls);
        Assert.Equal(first.ToArray(), second.ToArray());
        Assert.Equal(first.ToArray(), afterRestart.ToArray());
        Assert.Equal(DeterministicEmbeddingGenerator.VectorFor(text, 384), first.ToArray());
    }

    [RedisFact]
    public async Task A_tenants_texts_are_cached_in_its_own_partition_so_no_tenant_sees_anothers_hits()
    {
        var generator = new DeterministicEmbeddingGenerator();
        var (tenantA, tenantB) = (Guid.NewGuid(), Guid.NewGuid());
        var text = "What is the new price of the starter plan per seat? " + Guid.NewGuid();
        using var instance = Instance(generator);

        await instance.EmbedOneAsync(text, tenantA);
        await instance.EmbedOneAsync(text, tenantA);
        Assert.Equal(1, generator.Calls); // the tenant's own second query is a hit

        // The same words from another tenant are a miss in both levels: computed, not served from A's entry.
        using var other = Instance(generator);
        await other.EmbedOneAsync(text, tenantB);
        Assert.Equal(2, generator.Calls);
        Assert.Equal(0, other.L2Hits);
    }

    [RedisFact]
    public async Task Redis_holds_the_raw_little_endian_floats_under_a_ttl()
    {
        var generator = new DeterministicEmbeddingGenerator(dimensions: 8);
        using var service = Instance(generator);

        var vector = await service.EmbedOneAsync("ttl check");

        var server = redis.Connection.GetServer(redis.Connection.GetEndPoints()[0]);
        var key = Assert.Single(server.Keys(pattern: $"sb:emb:test:{generator.ModelId}:8:*"));
        var bytes = (byte[])(await redis.Connection.GetDatabase().StringGetAsync(key))!;
        Assert.Equal(8 * sizeof(float), bytes.Length);
        Assert.Equal(vector.ToArray(), Enumerable.Range(0, 8).Select(i => BitConverter.ToSingle(bytes, i * 4)).ToArray());
        var ttl = await redis.Connection.GetDatabase().KeyTimeToLiveAsync(key);
        Assert.InRange(ttl!.Value, TimeSpan.FromDays(29), TimeSpan.FromDays(30));
        Assert.Empty(server.Keys(pattern: $"sb:emb-lock:test:{generator.ModelId}:*"));
    }

    [RedisFact]
    public async Task Texts_that_differ_only_in_whitespace_or_unicode_form_share_one_vector()
    {
        var generator = new DeterministicEmbeddingGenerator();
        using var service = Instance(generator);

        var vectors = await service.EmbedAsync(["  the café\n\t opens at 9 ", "the cafe\u0301 opens at 9", "the café opens at 9"], CancellationToken.None);

        Assert.Equal(1, generator.Texts);
        Assert.Equal(["the café opens at 9"], Assert.Single(generator.Requests));
        Assert.Equal(vectors[0].ToArray(), vectors[1].ToArray());
        Assert.Equal(vectors[0].ToArray(), vectors[2].ToArray());
    }

    [RedisFact]
    public async Task Fifty_concurrent_requests_for_one_text_make_one_generator_call()
    {
        var generator = new DeterministicEmbeddingGenerator(delay: TimeSpan.FromMilliseconds(300));
        using var service = Instance(generator);
        using var start = new ManualResetEventSlim();

        var requests = Enumerable.Range(0, 50)
            .Select(_ => Task.Run(async () =>
            {
                start.Wait();
                return await service.EmbedOneAsync("who owns the billing service?");
            }))
            .ToArray();
        start.Set();
        var vectors = await Task.WhenAll(requests);

        Assert.Equal(1, generator.Calls);
        Assert.Equal(1, generator.Texts);
        Assert.All(vectors, v => Assert.Equal(vectors[0].ToArray(), v.ToArray()));
        Assert.Equal(0, service.InFlight);
    }

    [RedisFact]
    public async Task Two_instances_asking_at_once_compute_once_the_second_waits_for_the_first()
    {
        var generator = new DeterministicEmbeddingGenerator(delay: TimeSpan.FromMilliseconds(500));
        using var instanceA = Instance(generator);
        using var instanceB = Instance(generator);
        string[] texts = ["alpha release notes", "beta release notes", "gamma release notes"];

        var a = instanceA.EmbedAsync(texts, CancellationToken.None);
        var b = Task.Run(async () =>
        {
            await Task.Delay(100);
            return await instanceB.EmbedAsync(texts, CancellationToken.None);
        });
        var results = await Task.WhenAll(a, b);

        Assert.Equal(1, generator.Calls);
        Assert.Equal(3, generator.Texts);
        Assert.Equal(3, instanceA.L2Hits + instanceB.L2Hits);
        Assert.Equal(results[0].Select(v => v.ToArray()), results[1].Select(v => v.ToArray()));
    }

    [RedisFact]
    public async Task A_batch_embeds_only_its_misses_in_one_call()
    {
        var generator = new DeterministicEmbeddingGenerator();
        var texts = Enumerable.Range(0, 100).Select(i => $"chunk number {i} of the onboarding guide").ToArray();
        using (var warm = Instance(generator))
        {
            await warm.EmbedAsync(texts[..60], CancellationToken.None);
            Assert.Equal(1, generator.Calls);

            // Same instance: the 60 come from L1.
            var again = await warm.EmbedAsync(texts, CancellationToken.None);
            Assert.Equal(2, generator.Calls);
            Assert.Equal(texts[60..], generator.Requests.Last());
            Assert.Equal(60, warm.L1Hits);
            Assert.Equal(100, again.Count);
        }

        // Another instance: all 100 from one MGET, nothing computed.
        using var other = Instance(generator);
        var vectors = await other.EmbedAsync(texts, CancellationToken.None);
        Assert.Equal(2, generator.Calls);
        Assert.Equal(100, other.L2Hits);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(DeterministicEmbeddingGenerator.VectorFor(texts[i], 384), vectors[i].ToArray());
        }
    }

    [RedisFact]
    public async Task Misses_beyond_the_batch_size_go_in_several_calls()
    {
        var generator = new DeterministicEmbeddingGenerator(dimensions: 8);
        using var service = Instance(generator, batchSize: 16);

        await service.EmbedAsync(Enumerable.Range(0, 40).Select(i => $"text {i}").ToArray(), CancellationToken.None);

        Assert.Equal([16, 16, 8], generator.Requests.Select(r => r.Length));
    }

    [RedisFact]
    public async Task L1_stays_within_its_capacity_and_reports_to_the_registry()
    {
        var generator = new DeterministicEmbeddingGenerator(dimensions: 4);
        var registry = new BoundedCacheRegistry();
        using var service = Instance(generator, registry, l1Capacity: 1_000, batchSize: 2_000);

        const int total = 100_000;
        for (var offset = 0; offset < total; offset += 2_000)
        {
            var batch = Enumerable.Range(offset, 2_000).Select(i => "distinct text " + i).ToArray();
            await service.EmbedAsync(batch, CancellationToken.None);
            var stats = Assert.Single(registry.Snapshot(), s => s.Name == CachedEmbeddingService.L1CacheName);
            Assert.InRange(stats.Entries, 0, 1_000);
        }

        var final = Assert.Single(registry.Snapshot());
        Assert.Equal(CachedEmbeddingService.L1CacheName, final.Name);
        Assert.Equal(1_000, final.Capacity);
        Assert.InRange(final.Entries, 1, 1_000);
        Assert.True(final.Misses >= total, $"misses {final.Misses}");
        Assert.Equal(total, generator.Texts);
        // A claim leaves the in-flight table just after its waiters are released (they resume on other threads), so
        // on a busy machine the last batch's entries may still be leaving: they must, within moments.
        var drained = DateTime.UtcNow.AddSeconds(10);
        while (service.InFlight > 0 && DateTime.UtcNow < drained)
        {
            await Task.Delay(20);
        }

        Assert.Equal(0, service.InFlight);

        service.Dispose();
        Assert.Empty(registry.Snapshot());
    }

    [RedisFact]
    public async Task A_failed_computation_reaches_every_waiter_frees_its_locks_and_is_retried()
    {
        var generator = new DeterministicEmbeddingGenerator(delay: TimeSpan.FromMilliseconds(100));
        using var instanceA = Instance(generator, lockTimeout: TimeSpan.FromSeconds(30));
        using var instanceB = Instance(generator, lockTimeout: TimeSpan.FromSeconds(30));
        generator.FailNext(1);

        var waiters = Enumerable.Range(0, 5).Select(_ => instanceA.EmbedOneAsync("flaky text")).ToArray();
        foreach (var waiter in waiters)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => waiter);
        }

        Assert.Equal(1, generator.Calls);
        Assert.Equal(0, instanceA.InFlight);

        // The lock was released on failure: the other instance does not wait the 30 s lock timeout.
        var stopwatch = Stopwatch.StartNew();
        await instanceB.EmbedOneAsync("flaky text");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
        Assert.Equal(2, generator.Calls);
    }

    [RedisFact]
    public async Task A_waiter_computes_itself_when_the_lock_holder_never_delivers()
    {
        var generator = new DeterministicEmbeddingGenerator();
        using var service = Instance(generator, lockTimeout: TimeSpan.FromMilliseconds(600));
        var server = redis.Connection.GetDatabase();

        // Another instance took the lock for this text and died before writing the vector.
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("orphaned text"u8.ToArray()));
        await server.StringSetAsync($"sb:emb-lock:test:{generator.ModelId}:384:shared:{hash}", "someone-else", TimeSpan.FromSeconds(30));

        var stopwatch = Stopwatch.StartNew();
        await service.EmbedOneAsync("orphaned text");

        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5));
        Assert.Equal(1, generator.Calls);
        Assert.Equal(0, service.L2Hits);
    }

    [Fact]
    public async Task Without_redis_texts_are_still_embedded_and_cached_in_process()
    {
        var options = ConfigurationOptions.Parse($"127.0.0.1:{RedisServerFixture.FreePort()},abortConnect=false,connectTimeout=200,connectRetry=0");
        options.BacklogPolicy = BacklogPolicy.FailFast;
        using var unreachable = await ConnectionMultiplexer.ConnectAsync(options);
        var generator = new DeterministicEmbeddingGenerator();
        using var service = Instance(generator, connection: unreachable);

        var first = await service.EmbedAsync(["no redis today", "still works"], CancellationToken.None);
        var second = await service.EmbedOneAsync("no redis today");

        Assert.Equal(1, generator.Calls);
        Assert.Equal(first[0].ToArray(), second.ToArray());
        Assert.Equal(1, service.L1Hits);
    }
}
