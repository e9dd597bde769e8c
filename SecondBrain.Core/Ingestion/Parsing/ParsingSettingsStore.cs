using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.Data;
using SecondBrain.ServiceDefaults.Telemetry;
using StackExchange.Redis;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>
/// A tenant's versioned parsing settings. Postgres is the truth: every read asks it for the tenant's highest version
/// (an index-only lookup on the unique (tenant_id, version) index), and only the settings body comes from the cache
/// when the cached version is that one. So a missed Redis notification can never leave an instance on stale settings.
/// What it hands out is capped by the deployment's <see cref="ParsingLimits"/>. Scoped, like the DbContext it uses.
/// </summary>
public sealed class ParsingSettingsStore(
    SecondBrainDbContext db,
    IConnectionMultiplexer redis,
    ParsingSettingsCache cache,
    IOptions<ParsingLimits> limits,
    ILogger<ParsingSettingsStore> logger)
{
    public const string ChangedChannel = "sb:settings:parsing";

    private const int MaxSaveAttempts = 5;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The highest stored version, or the defaults (version 0) when the tenant never changed them; either way within
    /// the deployment's ceilings (settings stored before a ceiling was lowered come back clamped to it).
    /// </summary>
    public async Task<ParsingSettings> GetCurrentAsync(Guid tenantId, CancellationToken cancellationToken = default) =>
        limits.Value.Clamp(await GetStoredAsync(tenantId, cancellationToken).ConfigureAwait(false));

    private async Task<ParsingSettings> GetStoredAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await cache.EnsureSubscribedAsync().ConfigureAwait(false);
        var current = await CurrentVersionAsync(tenantId, cancellationToken).ConfigureAwait(false);
        if (current == 0)
        {
            return new ParsingSettings();
        }

        if (cache.TryGet(tenantId, out var cached) && cached.Version == current)
        {
            return cached;
        }

        var json = await Versions(tenantId)
            .Where(p => p.Version == current)
            .Select(p => p.SettingsJson)
            .FirstOrDefaultAsync(cancellationToken)
            .ConfigureAwait(false);
        var settings = Deserialize(json, current);
        cache.Set(tenantId, settings);
        return settings;
    }

    /// <summary>
    /// Stores <paramref name="settings"/> as the tenant's next version and announces it. Two saves racing for the
    /// same version number meet the unique index; the loser retries with the next number.
    /// </summary>
    public async Task<ParsingSettings> SaveAsync(Guid tenantId, ParsingSettings settings, Guid? userId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var errors = Validate(settings, limits.Value);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors.Values.SelectMany(e => e)), nameof(settings));
        }

        for (var attempt = 1; ; attempt++)
        {
            var next = await CurrentVersionAsync(tenantId, cancellationToken).ConfigureAwait(false) + 1;
            var saved = settings with { Version = next };
            var row = new ParsingSettingsVersion
            {
                TenantId = tenantId,
                Version = next,
                SettingsJson = JsonSerializer.Serialize(saved, Json),
                ChangedByUserId = userId
            };
            db.ParsingSettings.Add(row);
            try
            {
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DbUpdateException ex) when (attempt < MaxSaveAttempts && ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                db.Entry(row).State = EntityState.Detached;
                continue;
            }

            db.Entry(row).State = EntityState.Detached;
            await PublishAsync(tenantId, next).ConfigureAwait(false);
            return saved;
        }
    }

    /// <summary>
    /// What is wrong with the settings, as sentences per field (camelCase, as in the JSON) for a problem response;
    /// empty when they are valid. A value above the deployment's ceiling is refused with the ceiling named, since a
    /// tenant's settings must not reach beyond what the Workers every tenant shares are sized for.
    /// </summary>
    public static IReadOnlyDictionary<string, string[]> Validate(ParsingSettings settings, ParsingLimits? limits = null)
    {
        limits ??= new ParsingLimits();
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (settings.Timeout < TimeSpan.FromSeconds(1))
        {
            errors["timeout"] = ["Timeout must be at least 1 second."];
        }
        else if (settings.Timeout > limits.MaxTimeout)
        {
            errors["timeout"] = [string.Create(CultureInfo.InvariantCulture,
                $"Timeout must be at most {limits.MaxTimeout:c}, this deployment's ceiling ({ParsingLimits.SectionName}:{nameof(ParsingLimits.MaxTimeout)}).")];
        }

        if (settings.MaxDocumentBytes < 1024)
        {
            errors["maxDocumentBytes"] = ["MaxDocumentBytes must be at least 1024 bytes (1 KB)."];
        }
        else if (settings.MaxDocumentBytes > limits.MaxDocumentBytes)
        {
            errors["maxDocumentBytes"] = [string.Create(CultureInfo.InvariantCulture,
                $"MaxDocumentBytes must be at most {limits.MaxDocumentBytes} bytes, this deployment's ceiling ({ParsingLimits.SectionName}:{nameof(ParsingLimits.MaxDocumentBytes)}).")];
        }

        if (settings.MaxPdfPages < 1)
        {
            errors["maxPdfPages"] = ["MaxPdfPages must be at least 1."];
        }
        else if (settings.MaxPdfPages > limits.MaxPdfPages)
        {
            errors["maxPdfPages"] = [string.Create(CultureInfo.InvariantCulture,
                $"MaxPdfPages must be at most {limits.MaxPdfPages}, this deployment's ceiling ({ParsingLimits.SectionName}:{nameof(ParsingLimits.MaxPdfPages)}).")];
        }

        return errors;
    }

    private IQueryable<ParsingSettingsVersion> Versions(Guid tenantId) =>
        // Explicit tenant filter: the store serves a tenant named by the caller, whatever tenant the scope has set.
        db.ParsingSettings.IgnoreQueryFilters().AsNoTracking().Where(p => p.TenantId == tenantId);

    private async Task<int> CurrentVersionAsync(Guid tenantId, CancellationToken cancellationToken) =>
        await Versions(tenantId).MaxAsync(p => (int?)p.Version, cancellationToken).ConfigureAwait(false) ?? 0;

    private async Task PublishAsync(Guid tenantId, int version)
    {
        try
        {
            await redis.GetSubscriber()
                .PublishAsync(RedisChannel.Literal(ChangedChannel), ParsingSettingsCache.FormatMessage(tenantId, version))
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Only a hint: every read checks the version in Postgres, so a lost notification costs nothing but memory.
            logger.LogWarning(ex, "Could not announce parsing settings version {Version} of tenant {TenantId}.", version, tenantId);
        }
    }

    private ParsingSettings Deserialize(string? json, int version)
    {
        if (json is null)
        {
            return new ParsingSettings();
        }

        try
        {
            return (JsonSerializer.Deserialize<ParsingSettings>(json, Json) ?? new ParsingSettings()) with { Version = version };
        }
        catch (JsonException ex)
        {
            // A row no reader understands must not stop ingestion: the defaults are safe for every document.
            logger.LogError(ex, "Parsing settings version {Version} is unreadable; using the defaults.", version);
            return new ParsingSettings { Version = version };
        }
    }
}

/// <summary>
/// The in-process cache of settings by tenant: bounded ("parsing-settings", 1000 entries, reported in telemetry),
/// a singleton that listens on <see cref="ParsingSettingsStore.ChangedChannel"/> and drops a tenant's entry when
/// another instance saves a new version. Holds only settings, never documents.
/// </summary>
public sealed class ParsingSettingsCache : IDisposable
{
    public const string CacheName = "parsing-settings";
    public const int Capacity = 1000;

    private static readonly TimeSpan RetrySubscribeAfter = TimeSpan.FromSeconds(30);

    private readonly BoundedMemoryCache<Guid, ParsingSettings> _cache;
    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<ParsingSettingsCache> _logger;
    private readonly SemaphoreSlim _subscribeGate = new(1, 1);
    private volatile bool _subscribed;
    private long _nextAttemptTicks;

    public ParsingSettingsCache(IConnectionMultiplexer redis, BoundedCacheRegistry caches, ILogger<ParsingSettingsCache> logger)
    {
        _redis = redis;
        _logger = logger;
        _cache = new BoundedMemoryCache<Guid, ParsingSettings>(CacheName, Capacity, caches, timeToLive: TimeSpan.FromHours(1));
    }

    public bool TryGet(Guid tenantId, out ParsingSettings settings) => _cache.TryGetValue(tenantId, out settings);

    public void Set(Guid tenantId, ParsingSettings settings) => _cache.Set(tenantId, settings);

    public void Evict(Guid tenantId) => _cache.Remove(tenantId);

    /// <summary>Subscribes once; a failure is logged and retried on the next use (reads stay correct without it).</summary>
    public async Task EnsureSubscribedAsync()
    {
        // While Redis is away, try again only now and then, so reads do not each wait for a connection timeout.
        if (_subscribed || Environment.TickCount64 < Interlocked.Read(ref _nextAttemptTicks))
        {
            return;
        }

        await _subscribeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_subscribed)
            {
                return;
            }

            await _redis.GetSubscriber()
                .SubscribeAsync(RedisChannel.Literal(ParsingSettingsStore.ChangedChannel), (_, message) => OnChanged(message))
                .ConfigureAwait(false);
            _subscribed = true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Interlocked.Exchange(ref _nextAttemptTicks, Environment.TickCount64 + (long)RetrySubscribeAfter.TotalMilliseconds);
            _logger.LogWarning(ex, "Could not subscribe to parsing settings changes; relying on the version check in Postgres.");
        }
        finally
        {
            _subscribeGate.Release();
        }
    }

    internal static string FormatMessage(Guid tenantId, int version) =>
        string.Create(CultureInfo.InvariantCulture, $"{tenantId:D}:{version}");

    internal void OnChanged(RedisValue message)
    {
        var text = message.ToString();
        var separator = text.LastIndexOf(':');
        var tenant = separator > 0 ? text[..separator] : text;
        if (Guid.TryParse(tenant, out var tenantId))
        {
            // Evicting even on a late, older announcement is harmless: the next read reloads the current version.
            _cache.Remove(tenantId);
        }
    }

    public void Dispose()
    {
        _cache.Dispose();
        _subscribeGate.Dispose();
    }
}
