using StackExchange.Redis;

namespace SecondBrain.Core.Identity;

/// <summary>
/// Access tokens revoked before they expire (logout), shared by all instances through Redis. Each entry lives only
/// as long as the token it revokes would have.
/// </summary>
public sealed class AccessTokenRevocations(IConnectionMultiplexer redis, TimeProvider time)
{
    private static RedisKey Key(string tokenId) => $"sb:revoked-access:{tokenId}";

    public async Task RevokeAsync(string tokenId, DateTimeOffset expiresAt)
    {
        var remaining = expiresAt - time.GetUtcNow();
        if (remaining > TimeSpan.Zero)
        {
            await redis.GetDatabase().StringSetAsync(Key(tokenId), "1", remaining);
        }
    }

    public Task<bool> IsRevokedAsync(string tokenId) => redis.GetDatabase().KeyExistsAsync(Key(tokenId));
}
