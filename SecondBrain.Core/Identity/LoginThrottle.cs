using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Resilience;
using StackExchange.Redis;

namespace SecondBrain.Core.Identity;

/// <summary>
/// Counts failed logins per account in Redis so the limit holds however requests are spread over instances.
/// The counter expires with its window; a successful login clears it. Without Redis the limit cannot be enforced,
/// so logins answer 503 (dependency_unavailable) rather than let guesses through unthrottled.
/// </summary>
public sealed class LoginThrottle(IConnectionMultiplexer redis, IOptions<LoginThrottleOptions> options)
{
    // The key is a hash, so e-mail addresses do not sit in Redis in clear.
    private static RedisKey Key(string normalizedEmail) =>
        "sb:login-failures:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedEmail)));

    /// <summary>When the account is locked out, how long until it may try again.</summary>
    public async Task<TimeSpan?> GetLockoutAsync(string normalizedEmail)
    {
        var db = redis.GetDatabase();
        var key = Key(normalizedEmail);
        var count = await db.StringGetAsync(key).Require("login throttle");
        if (!count.HasValue || (long)count < options.Value.MaxFailures)
        {
            return null;
        }

        var ttl = await db.KeyTimeToLiveAsync(key).Require("login throttle");
        return ttl ?? options.Value.Window;
    }

    public async Task RecordFailureAsync(string normalizedEmail)
    {
        var db = redis.GetDatabase();
        var key = Key(normalizedEmail);
        await db.StringIncrementAsync(key).Require("login throttle");
        // NX: the window starts at the first failure and is not extended by later ones.
        await db.KeyExpireAsync(key, options.Value.Window, ExpireWhen.HasNoExpiry).Require("login throttle");
    }

    public Task ResetAsync(string normalizedEmail) => redis.GetDatabase().KeyDeleteAsync(Key(normalizedEmail)).Require("login throttle");
}
