using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SecondBrain.ServiceDefaults.Telemetry;

/// <summary>A point-in-time reading of this process's memory and scheduling figures.</summary>
public sealed record InstanceMemorySnapshot(
    long WorkingSetBytes,
    long GcHeapSizeBytes,
    double AllocationRateBytesPerSecond,
    long ThreadPoolQueueLength,
    int ThreadPoolThreadCount,
    int Gen0Collections,
    int Gen1Collections,
    int Gen2Collections);

/// <summary>
/// The per-instance meter: memory, allocation rate and thread-pool pressure, plus every bounded cache registered
/// with <see cref="BoundedCacheRegistry"/>. The same figures travel in the Redis heartbeat.
/// </summary>
public sealed class InstanceMetrics : IDisposable
{
    public const string MeterName = "SecondBrain.Instance";

    private readonly Meter _meter;
    private readonly Lock _sampleLock = new();
    private long _lastAllocatedBytes = GC.GetTotalAllocatedBytes();
    private long _lastSampleTimestamp = Stopwatch.GetTimestamp();
    private double _lastRate;

    public InstanceMetrics(IMeterFactory meterFactory, BoundedCacheRegistry caches)
    {
        _meter = meterFactory.Create(MeterName);
        _meter.CreateObservableGauge("secondbrain.instance.working_set", () => Environment.WorkingSet, "By", "Process working set");
        _meter.CreateObservableGauge("secondbrain.instance.gc_heap_size", () => GC.GetGCMemoryInfo().HeapSizeBytes, "By", "GC heap size after the last collection");
        _meter.CreateObservableGauge("secondbrain.instance.allocation_rate", SampleAllocationRate, "By/s", "Managed allocation rate since the previous sample");
        _meter.CreateObservableGauge("secondbrain.instance.threadpool_queue_length", () => ThreadPool.PendingWorkItemCount, "{items}", "Work items waiting for a thread-pool thread");

        _meter.CreateObservableGauge("secondbrain.cache.entries", () => caches.Snapshot().Select(c => new Measurement<long>(c.Entries, Tag(c))), "{entries}");
        _meter.CreateObservableGauge("secondbrain.cache.capacity", () => caches.Snapshot().Select(c => new Measurement<long>(c.Capacity, Tag(c))), "{entries}");
        _meter.CreateObservableCounter("secondbrain.cache.hits", () => caches.Snapshot().Select(c => new Measurement<long>(c.Hits, Tag(c))), "{hits}");
        _meter.CreateObservableCounter("secondbrain.cache.misses", () => caches.Snapshot().Select(c => new Measurement<long>(c.Misses, Tag(c))), "{misses}");
        _meter.CreateObservableCounter("secondbrain.cache.evictions", () => caches.Snapshot().Select(c => new Measurement<long>(c.Evictions, Tag(c))), "{evictions}");
    }

    private static KeyValuePair<string, object?> Tag(CacheStatistics c) => new("cache.name", c.Name);

    public InstanceMemorySnapshot Capture() => new(
        Environment.WorkingSet,
        GC.GetGCMemoryInfo().HeapSizeBytes,
        SampleAllocationRate(),
        ThreadPool.PendingWorkItemCount,
        ThreadPool.ThreadCount,
        GC.CollectionCount(0),
        GC.CollectionCount(1),
        GC.CollectionCount(2));

    // Rate over the interval since the previous sample; samples closer than 100 ms reuse the last rate so two
    // readers (exporter and heartbeat) do not produce a meaningless near-zero interval.
    private double SampleAllocationRate()
    {
        lock (_sampleLock)
        {
            var now = Stopwatch.GetTimestamp();
            var elapsed = Stopwatch.GetElapsedTime(_lastSampleTimestamp, now);
            if (elapsed < TimeSpan.FromMilliseconds(100))
            {
                return _lastRate;
            }

            var allocated = GC.GetTotalAllocatedBytes();
            _lastRate = (allocated - _lastAllocatedBytes) / elapsed.TotalSeconds;
            _lastAllocatedBytes = allocated;
            _lastSampleTimestamp = now;
            return _lastRate;
        }
    }

    public void Dispose() => _meter.Dispose();
}
