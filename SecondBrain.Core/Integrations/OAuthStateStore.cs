using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using SecondBrain.Core.Resilience;
using StackExchange.Redis;

namespace SecondBrain.Core.Integrations;

/// <summary>What a pending OAuth attempt is bound to; kept in Redis, never in an instance.</summary>
public sealed record OAuthAttempt(Guid TenantId, Guid UserId, string Provider, string RedirectUri, string CodeVerifier, DateTimeOffset CreatedAt);

/// <summary>
/// Pending OAuth attempts in Redis: stored under the SHA-256 of the state (the state itself is never stored),
/// with a 10-minute TTL, and consumed with GETDEL so a callback on any instance succeeds once and a replay fails.
/// </summary>
public sealed class OAuthStateStore(IConnectionMultiplexer redis, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private static RedisKey Key(string state) =>
        "sb:oauth:state:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(state)));

    /// <summary>Creates a state (32 random bytes, base64url) and stores the attempt under its hash.</summary>
    public async Task<(string State, DateTimeOffset ExpiresAt)> CreateAsync(OAuthAttempt attempt)
    {
        var state = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        await redis.GetDatabase().StringSetAsync(Key(state), JsonSerializer.Serialize(attempt), Lifetime, When.NotExists).Require("OAuth attempt");
        return (state, time.GetUtcNow().Add(Lifetime));
    }

    /// <summary>The attempt, exactly once; null when unknown, expired or already consumed.</summary>
    public async Task<OAuthAttempt?> ConsumeAsync(string? state)
    {
        if (string.IsNullOrWhiteSpace(state) || state.Length > 256)
        {
            return null;
        }

        var value = await redis.GetDatabase().StringGetDeleteAsync(Key(state)).Require("OAuth attempt");
        return value.HasValue ? JsonSerializer.Deserialize<OAuthAttempt>(value.ToString()) : null;
    }

    /// <summary>PKCE: a 32-byte verifier and its S256 challenge.</summary>
    public static (string Verifier, string Challenge) CreatePkcePair()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        return (verifier, challenge);
    }
}
