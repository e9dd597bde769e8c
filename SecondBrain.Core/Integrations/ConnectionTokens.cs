using System.Text.Json;
using Medallion.Threading.Redis;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using SecondBrain.Core.Data;
using SecondBrain.Core.Sync;
using StackExchange.Redis;

namespace SecondBrain.Core.Integrations;

/// <summary>Encrypts provider tokens with the Data Protection key ring shared by all instances (kept in Postgres).</summary>
public sealed class ProviderTokenProtector(IDataProtectionProvider dataProtection)
{
    private readonly IDataProtector _protector = dataProtection.CreateProtector("SecondBrain.Integrations.ProviderTokens.v1");

    public string Protect(ProviderTokens tokens) => _protector.Protect(JsonSerializer.Serialize(tokens));

    public ProviderTokens Unprotect(string protectedTokens) =>
        JsonSerializer.Deserialize<ProviderTokens>(_protector.Unprotect(protectedTokens))
        ?? throw new InvalidOperationException("Stored provider tokens are empty.");
}

/// <summary>
/// Hands readers a valid access token, refreshing shortly before expiry. A Redis lock per connection makes one
/// instance refresh at a time (Box refresh tokens are single-use: two refreshes would lock the user out), and the
/// new tokens are persisted before they are used.
/// </summary>
public sealed class ConnectionTokenSource(
    SecondBrainDbContext db,
    ProviderTokenProtector protector,
    IEnumerable<IOAuthProvider> providers,
    IConnectionMultiplexer redis,
    TimeProvider time,
    ILogger<ConnectionTokenSource> logger) : IConnectionTokenSource
{
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(2);

    public async Task<string> GetAccessTokenAsync(Guid connectionId, bool forceRefresh, CancellationToken cancellationToken)
    {
        var connection = await LoadAsync(connectionId, cancellationToken);
        var tokens = protector.Unprotect(connection.ProtectedTokens!);
        if (!forceRefresh && !ExpiresSoon(tokens))
        {
            return tokens.AccessToken;
        }

        var distributedLock = new RedisDistributedLock($"sb:lock:connection-tokens:{connectionId}", redis.GetDatabase());
        await using (await distributedLock.AcquireAsync(TimeSpan.FromSeconds(30), cancellationToken))
        {
            // Another instance may have refreshed while this one waited for the lock.
            db.ChangeTracker.Clear();
            connection = await LoadAsync(connectionId, cancellationToken);
            var current = protector.Unprotect(connection.ProtectedTokens!);
            var refreshedMeanwhile = current.AccessToken != tokens.AccessToken;
            if (refreshedMeanwhile || (!forceRefresh && !ExpiresSoon(current)))
            {
                return current.AccessToken;
            }

            if (current.RefreshToken is null)
            {
                await MarkReauthRequiredAsync(connection, "The provider issued no refresh token and the access token was refused.", cancellationToken);
                throw new ReauthRequiredException("The access token was refused and cannot be refreshed.");
            }

            var provider = providers.Single(p => p.Provider == connection.Provider);
            ProviderTokens renewed;
            try
            {
                renewed = await provider.RefreshAsync(current.RefreshToken, cancellationToken);
            }
            catch (ReauthRequiredException ex)
            {
                // invalid_grant may only mean that another instance refreshed first (the lock can lapse, e.g. while
                // Redis fails over) and the refresh token we sent is spent: its tokens are in the row by now.
                db.ChangeTracker.Clear();
                var latest = await LoadAsync(connectionId, cancellationToken);
                var stored = protector.Unprotect(latest.ProtectedTokens!);
                if (stored.RefreshToken != current.RefreshToken || stored.AccessToken != current.AccessToken)
                {
                    logger.LogInformation("{Provider} tokens of connection {ConnectionId} were refreshed elsewhere; using those", latest.Provider, connectionId);
                    return stored.AccessToken;
                }

                await MarkReauthRequiredAsync(latest, ex.Message, cancellationToken);
                throw;
            }

            connection.ProtectedTokens = protector.Protect(renewed with { RefreshToken = renewed.RefreshToken ?? current.RefreshToken });
            connection.AccessTokenExpiresAt = renewed.ExpiresAt;
            connection.TokensRefreshedAt = time.GetUtcNow();
            connection.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            logger.LogInformation("Refreshed {Provider} tokens of connection {ConnectionId}", connection.Provider, connectionId);
            return renewed.AccessToken;
        }
    }

    private bool ExpiresSoon(ProviderTokens tokens) => tokens.ExpiresAt is { } expires && expires - time.GetUtcNow() < RefreshMargin;

    private async Task<Connection> LoadAsync(Guid connectionId, CancellationToken cancellationToken)
    {
        var connection = await db.Connections.SingleOrDefaultAsync(c => c.Id == connectionId, cancellationToken);
        if (connection is null || connection.Status == ConnectionStatuses.Disconnected || connection.ProtectedTokens is null)
        {
            throw new ReauthRequiredException("The connection was removed; connect the provider again.");
        }

        if (connection.Status == ConnectionStatuses.ReauthRequired)
        {
            throw new ReauthRequiredException(connection.LastError ?? "The provider must be connected again.");
        }

        return connection;
    }

    private async Task MarkReauthRequiredAsync(Connection connection, string reason, CancellationToken cancellationToken)
    {
        connection.Status = ConnectionStatuses.ReauthRequired;
        connection.LastError = reason;
        connection.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }
}
