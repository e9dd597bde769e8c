using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Resilience;
using StackExchange.Redis;

namespace SecondBrain.Core.Identity;

/// <summary>
/// Access tokens that must stop working before they expire, shared by all instances through Redis: one token
/// (logout), one session family (a session revoked from the session list, or ended by a password change), or every
/// token a user holds that was issued before a moment (deactivation, a role change). Each entry lives only as long as
/// the tokens it revokes would have. The refresh sessions, revoked in Postgres, are what durably ends a session; this
/// only shortens the life of access tokens already issued. So with Redis unavailable a revocation is skipped and a
/// check answers "not revoked" (logged): requests keep working through an outage, at the cost that such a token lives
/// out its remaining minutes.
/// </summary>
public sealed class AccessTokenRevocations(IConnectionMultiplexer redis, IOptions<JwtOptions> jwt, TimeProvider time, ILogger<AccessTokenRevocations> logger)
{
    // Validation accepts a token a little past its expiry (clock skew): an entry outlives it by more than that.
    private static readonly TimeSpan SkewMargin = TimeSpan.FromMinutes(1);

    private TimeSpan Lifetime => jwt.Value.AccessTokenLifetime + SkewMargin;

    private static RedisKey TokenKey(string tokenId) => $"sb:revoked-access:{tokenId}";

    private static RedisKey FamilyKey(Guid family) => $"sb:revoked-family:{family:N}";

    private static RedisKey UserKey(Guid userId) => $"sb:user-tokens-before:{userId:N}";

    public async Task RevokeAsync(string tokenId, DateTimeOffset expiresAt)
    {
        var remaining = expiresAt - time.GetUtcNow() + SkewMargin;
        if (remaining > TimeSpan.Zero)
        {
            await redis.GetDatabase().StringSetAsync(TokenKey(tokenId), "1", remaining).OrIgnoreAsync(logger, "access token revocation");
        }
    }

    /// <summary>Ends the access tokens of these session families (their refresh sessions are revoked in Postgres).</summary>
    public async Task RevokeFamiliesAsync(IEnumerable<Guid> families)
    {
        var db = redis.GetDatabase();
        await Task.WhenAll(families.Select(f => db.StringSetAsync(FamilyKey(f), "1", Lifetime).OrIgnoreAsync(logger, "session revocation")));
    }

    /// <summary>Every access token of the user issued before now stops working (a refreshed one, issued later, works).</summary>
    public Task RevokeUserTokensAsync(Guid userId) =>
        redis.GetDatabase().StringSetAsync(UserKey(userId), time.GetUtcNow().ToUnixTimeMilliseconds(), Lifetime)
            .OrIgnoreAsync(logger, "user token revocation");

    /// <summary>Whether this access token was revoked in any of the three ways, in one round trip.</summary>
    public async Task<bool> IsRevokedAsync(string? tokenId, Guid? family, Guid userId, DateTimeOffset issuedAt)
    {
        var db = redis.GetDatabase();
        var keys = new List<RedisKey>(2);
        if (tokenId is not null)
        {
            keys.Add(TokenKey(tokenId));
        }

        if (family is { } f)
        {
            keys.Add(FamilyKey(f));
        }

        var batch = db.CreateBatch();
        var revoked = keys.Count > 0 ? batch.KeyExistsAsync([.. keys]) : Task.FromResult(0L);
        var before = batch.StringGetAsync(UserKey(userId));
        batch.Execute();
        if (await revoked.OrElseAsync(0L, logger, "access token revocation check") > 0)
        {
            return true;
        }

        var cutoff = await before.OrElseAsync(RedisValue.Null, logger, "access token revocation check");
        return cutoff.HasValue && issuedAt.ToUnixTimeMilliseconds() < (long)cutoff;
    }
}
