using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Resilience;
using StackExchange.Redis;

namespace SecondBrain.Core.Identity;

/// <summary>
/// Limits password guesses per account and client address, in Redis so the limit holds however requests are spread
/// over instances. The attempt is counted atomically <em>before</em> the password is checked, so parallel guesses
/// cannot all slip in between a read and an increment: at most <see cref="LoginThrottleOptions.MaxFailures"/> are
/// verified per window. Keyed by account and address, a third party who guesses wrong locks out only their own
/// address, never the account's owner elsewhere; the window starts at the first attempt and is not extended, and the
/// per-address request limit bounds how fast any one address may try. Without Redis the limit cannot be enforced,
/// so logins answer 503 (dependency_unavailable) rather than let guesses through unthrottled.
/// </summary>
public sealed class LoginThrottle(IConnectionMultiplexer redis, IOptions<LoginThrottleOptions> options)
{
    // INCR and start the window on the first attempt, in one step; answers the count and the window's time left.
    private static readonly LuaScript CountAttempt = LuaScript.Prepare("""
        local n = redis.call('INCR', @key)
        if n == 1 then redis.call('PEXPIRE', @key, @window) end
        return { n, redis.call('PTTL', @key) }
        """);

    // Hashed, so neither e-mail addresses nor client addresses sit in Redis in clear.
    private static RedisKey Key(string normalizedEmail, string client) =>
        "sb:login-attempts:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedEmail + "\n" + client)));

    /// <summary>
    /// Counts this attempt. Null when the password may be checked; otherwise how long until this client may try
    /// this account again.
    /// </summary>
    public async Task<TimeSpan?> BeginAttemptAsync(string normalizedEmail, string client)
    {
        var o = options.Value;
        var result = (RedisResult[])(await redis.GetDatabase()
            .ScriptEvaluateAsync(CountAttempt, new { key = Key(normalizedEmail, client), window = (long)o.Window.TotalMilliseconds })
            .Require("login throttle"))!;
        var attempts = (long)result[0];
        if (attempts <= o.MaxFailures)
        {
            return null;
        }

        var left = (long)result[1];
        return left > 0 ? TimeSpan.FromMilliseconds(left) : o.Window;
    }

    /// <summary>A successful login clears the count: only failures accumulate.</summary>
    public Task SucceededAsync(string normalizedEmail, string client) =>
        redis.GetDatabase().KeyDeleteAsync(Key(normalizedEmail, client)).Require("login throttle");
}
