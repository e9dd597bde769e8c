using Microsoft.Extensions.Logging;
using SecondBrain.Core.Resilience;
using StackExchange.Redis;

namespace SecondBrain.Core.Identity;

/// <summary>
/// Access tokens revoked before they expire (logout), shared by all instances through Redis. Each entry lives only
/// as long as the token it revokes would have. The refresh session, revoked in Postgres, is what logout durably
/// ends; this only shortens the life of the access token already issued. So with Redis unavailable a revocation is
/// skipped and a check answers "not revoked" (logged): requests keep working through an outage, at the cost that an
/// access token logged out during it lives out its remaining minutes.
/// </summary>
public sealed class AccessTokenRevocations(IConnectionMultiplexer redis, TimeProvider time, ILogger<AccessTokenRevocations> logger)
{
    private static RedisKey Key(string tokenId) => $"sb:revoked-access:{tokenId}";

    public async Task RevokeAsync(string tokenId, DateTimeOffset expiresAt)
    {
        var remaining = expiresAt - time.GetUtcNow();
        if (remaining > TimeSpan.Zero)
        {
            await redis.GetDatabase().StringSetAsync(Key(tokenId), "1", remaining).OrIgnoreAsync(logger, "access token revocation");
        }
    }

    public Task<bool> IsRevokedAsync(string tokenId) =>
        redis.GetDatabase().KeyExistsAsync(Key(tokenId)).OrElseAsync(false, logger, "access token revocation check");
}
