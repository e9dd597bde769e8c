using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using RedisRateLimiting;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Identity;
using SecondBrain.Core.Resilience;
using StackExchange.Redis;

namespace SecondBrain.Api.Infrastructure;

public sealed class WindowLimit
{
    [Range(1, 1_000_000)]
    public int PermitLimit { get; set; }

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>Request limits shared by every Api instance (counted in Redis), so spreading requests over replicas gains nothing.</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    /// <summary>Per client address on signup, login, refresh and logout: what a person at one address ever needs.</summary>
    [Required]
    public WindowLimit Auth { get; set; } = new() { PermitLimit = 30 };

    /// <summary>Per tenant on search, ask, conversation messages and uploads: the expensive calls.</summary>
    [Required]
    public WindowLimit Tenant { get; set; } = new() { PermitLimit = 600 };
}

/// <summary>
/// The Api's rate limits: <see cref="Auth"/> partitions by client address, <see cref="Tenant"/> by the
/// token's tenant. Counters live in Redis (RedisRateLimiting's fixed windows); a rejected request gets 429
/// <c>rate_limited</c> problem details with <c>Retry-After</c>. When Redis fails the limiter lets the request through
/// (counted as a Redis fallback): the limits protect against abuse, they must not turn an outage into refusals of
/// what works without Redis (search over Postgres). Login's own failure counter still needs Redis and answers 503.
/// </summary>
internal static class RateLimitPolicies
{
    public const string Auth = "auth";
    public const string Tenant = "tenant";

    public static IServiceCollection AddSecondBrainRateLimiting(this IServiceCollection services)
    {
        // Data annotations do not reach nested objects, so each limit is checked here.
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => new[] { o.Auth, o.Tenant }.All(l => l is { PermitLimit: >= 1 and <= 1_000_000 } && l.Window >= TimeSpan.FromSeconds(1) && l.Window <= TimeSpan.FromDays(1)),
                "RateLimits:Auth and RateLimits:Tenant need PermitLimit from 1 to 1,000,000 and a Window from 1 second to 1 day.")
            .ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>()
            .Configure<IOptions<RateLimitOptions>, IServiceProvider>((limiter, limits, provider) =>
            {
                limiter.AddPolicy(Auth, context => Partition("auth:" + ClientAddress(context), limits.Value.Auth, provider));
                limiter.AddPolicy(Tenant, context => Partition(
                    context.User.FindFirst(SecondBrainClaims.TenantId)?.Value is { } tenant ? "tenant:" + tenant : "auth:" + ClientAddress(context),
                    limits.Value.Tenant, provider));
                limiter.OnRejected = WriteRejectionAsync;
            });
        return services;
    }

    /// <summary>The connection's address. Behind a proxy, configure forwarded headers so this is the client's.</summary>
    public static string ClientAddress(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static RateLimitPartition<string> Partition(string key, WindowLimit limit, IServiceProvider provider)
    {
        var redis = RedisRateLimitPartition.GetFixedWindowRateLimiter(key, _ => new RedisFixedWindowRateLimiterOptions
        {
            ConnectionMultiplexerFactory = provider.GetRequiredService<IConnectionMultiplexer>,
            PermitLimit = limit.PermitLimit,
            Window = limit.Window
        });
        var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RateLimitPolicies));
        return RateLimitPartition.Get(key, k => new FailOpenRateLimiter(redis.Factory(k), logger));
    }

    private static async ValueTask WriteRejectionAsync(OnRejectedContext rejected, CancellationToken ct)
    {
        // RedisRateLimiting states the wait in whole seconds under its own metadata name.
        var retryAfter = rejected.Lease.TryGetMetadata(RateLimitMetadataName.RetryAfter, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        var problem = new ApiProblem(429, ProblemCodes.RateLimited, "Too many requests from this client or tenant; retry after the Retry-After header.")
        {
            RetryAfter = retryAfter
        };
        await problem.ToHttpResult(rejected.HttpContext).ExecuteAsync(rejected.HttpContext);
    }

    /// <summary>Delegates to the Redis limiter and grants the permit when Redis cannot be reached.</summary>
    private sealed class FailOpenRateLimiter(RateLimiter inner, ILogger logger) : RateLimiter
    {
        public override TimeSpan? IdleDuration => inner.IdleDuration;

        public override RateLimiterStatistics? GetStatistics() => inner.GetStatistics();

        protected override RateLimitLease AttemptAcquireCore(int permitCount)
        {
            try
            {
                return inner.AttemptAcquire(permitCount);
            }
            catch (Exception ex) when (RedisFallback.IsRedisFailure(ex))
            {
                RedisFallback.Record(ex, logger, "rate limit");
                return Granted.Instance;
            }
        }

        protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
        {
            try
            {
                return await inner.AcquireAsync(permitCount, cancellationToken);
            }
            catch (Exception ex) when (RedisFallback.IsRedisFailure(ex))
            {
                RedisFallback.Record(ex, logger, "rate limit");
                return Granted.Instance;
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class Granted : RateLimitLease
    {
        public static readonly Granted Instance = new();

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
