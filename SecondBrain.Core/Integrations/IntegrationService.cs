using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Auditing;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Sync;
using SecondBrain.Core.Tenancy;
using SecondBrain.ServiceDefaults.Telemetry;

namespace SecondBrain.Core.Integrations;

public sealed record ConnectResponse(string Provider, Uri AuthorizeUrl, DateTimeOffset ExpiresAt);

public sealed record IntegrationStatus(
    string Provider,
    bool Configured,
    string Status,
    string? AccountLabel,
    DateTimeOffset? ConnectedAt,
    DateTimeOffset? LastSyncedAt,
    string? LastError,
    Guid? ActiveRunId);

/// <summary>Stable codes the callback puts in <c>?error=</c> on the front-end URL.</summary>
public static class CallbackErrors
{
    public const string InvalidState = "invalid_state";
    public const string ProviderDenied = "provider_denied";
    public const string MissingCode = "missing_code";
    public const string TokenExchangeFailed = "token_exchange_failed";
    public const string ProviderUnavailable = "provider_unavailable";

    /// <summary>SecondBrain's own storage was unavailable; the attempt is kept, so the same link can be retried.</summary>
    public const string ServiceUnavailable = "service_unavailable";
}

/// <summary>
/// Connect, callback, list and disconnect. Nothing about a pending attempt lives in an instance: the state is in
/// Redis (<see cref="OAuthStateStore"/>) and tokens in Postgres, encrypted with the shared key ring.
/// </summary>
public sealed class IntegrationService(
    SecondBrainDbContext db,
    TenantContext tenant,
    OAuthStateStore states,
    IEnumerable<IOAuthProvider> providers,
    ProviderTokenProtector protector,
    SyncProgress progress,
    IOptions<IntegrationsOptions> options,
    InstanceIdentity instance,
    TimeProvider time,
    ILogger<IntegrationService> logger)
{
    public async Task<Outcome<ConnectResponse>> ConnectAsync(string provider, CancellationToken ct)
    {
        if (Resolve(provider) is not { } oauth)
        {
            return UnknownProvider(provider);
        }

        var settings = options.Value.For(provider);
        if (!settings.IsConfigured || string.IsNullOrWhiteSpace(settings.RedirectUri))
        {
            return new ApiProblem(409, ProblemCodes.ProviderNotConfigured,
                $"{provider} is not configured on this server (Integrations:{Capitalize(provider)}: ClientId, endpoints and RedirectUri).");
        }

        var (verifier, challenge) = OAuthStateStore.CreatePkcePair();
        var attempt = new OAuthAttempt(tenant.TenantId!.Value, tenant.UserId!.Value, provider, settings.RedirectUri, verifier, time.GetUtcNow());
        var (state, expiresAt) = await states.CreateAsync(attempt);
        return new ConnectResponse(provider, oauth.BuildAuthorizeUrl(state, challenge, new Uri(settings.RedirectUri)), expiresAt);
    }

    /// <summary>Handles the provider's redirect on any instance; returns where to send the browser.</summary>
    public async Task<Uri> CallbackAsync(string provider, string? code, string? state, string? error, CancellationToken ct)
    {
        OAuthAttempt? attempt;
        try
        {
            attempt = await states.ConsumeAsync(state);
        }
        catch (Resilience.DependencyUnavailableException ex)
        {
            // A browser redirect, so no 503 page: the front end shows the outcome, and the attempt is still in Redis.
            logger.LogWarning("OAuth callback for {Provider} while {Dependency} is unavailable", provider, ex.Dependency);
            return Frontend(provider, CallbackErrors.ServiceUnavailable);
        }

        if (attempt is null || attempt.Provider != provider || Resolve(provider) is not { } oauth)
        {
            logger.LogWarning("OAuth callback for {Provider} with an unknown, expired or replayed state", provider);
            return Frontend(provider, CallbackErrors.InvalidState);
        }

        if (!string.IsNullOrEmpty(error))
        {
            return Frontend(provider, CallbackErrors.ProviderDenied);
        }

        if (string.IsNullOrEmpty(code))
        {
            return Frontend(provider, CallbackErrors.MissingCode);
        }

        ProviderTokens tokens;
        try
        {
            tokens = await oauth.ExchangeCodeAsync(code, attempt.CodeVerifier, new Uri(attempt.RedirectUri), ct);
        }
        catch (ProviderOAuthException ex)
        {
            logger.LogWarning("{Provider} refused the code exchange: {Error}", provider, ex.Error);
            return Frontend(provider, CallbackErrors.TokenExchangeFailed);
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning(ex, "{Provider} token endpoint unreachable", provider);
            return Frontend(provider, CallbackErrors.ProviderUnavailable);
        }

        tenant.Set(attempt.TenantId, attempt.UserId);
        // Two callbacks of one tenant and provider may race; the unique (tenant, provider) index lets one insert
        // win and the other then updates the row it finds.
        for (var attemptNumber = 1; ; attemptNumber++)
        {
            try
            {
                await SaveConnectionAsync(provider, attempt, tokens, ct);
                break;
            }
            catch (DbUpdateException ex) when (attemptNumber < 3 && ex.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
            {
                db.ChangeTracker.Clear();
            }
        }

        return Frontend(provider, error: null);
    }

    private async Task SaveConnectionAsync(string provider, OAuthAttempt attempt, ProviderTokens tokens, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var connection = await db.Connections.SingleOrDefaultAsync(c => c.Provider == provider, ct);
        if (connection is null)
        {
            connection = new Connection { Provider = provider, Status = ConnectionStatuses.Connected, TenantId = attempt.TenantId };
            db.Connections.Add(connection);
        }

        connection.Status = ConnectionStatuses.Connected;
        connection.ProtectedTokens = protector.Protect(tokens);
        connection.AccessTokenExpiresAt = tokens.ExpiresAt;
        connection.AccountLabel = tokens.AccountLabel;
        connection.ConnectedByUserId = attempt.UserId;
        connection.ConnectedAt = now;
        connection.UpdatedAt = now;
        connection.LastError = null;
        db.AuditLog.Add(new AuditEntry
        {
            TenantId = attempt.TenantId,
            ActorUserId = attempt.UserId,
            Action = "integration.connected",
            Target = provider,
            Detail = JsonSerializer.Serialize(new { tokens.AccountLabel }),
            InstanceId = instance.InstanceId
        });
        await db.SaveChangesAsync(ct);
    }

    public async Task<IReadOnlyList<IntegrationStatus>> ListAsync(CancellationToken ct)
    {
        var connections = await db.Connections.AsNoTracking().ToListAsync(ct);
        var active = await db.SyncRuns.AsNoTracking()
            .Where(r => r.Status == SyncRunStatuses.Queued || r.Status == SyncRunStatuses.Running)
            .Select(r => new { r.Source, r.Id })
            .ToListAsync(ct);

        return Sources.OAuthProviders.Select(p =>
        {
            var c = connections.SingleOrDefault(x => x.Provider == p);
            return new IntegrationStatus(
                p,
                options.Value.For(p).IsConfigured,
                c?.Status ?? "not_connected",
                c?.AccountLabel,
                c?.ConnectedAt,
                c?.LastSyncedAt,
                c?.LastError,
                active.FirstOrDefault(a => a.Source == p)?.Id);
        }).ToList();
    }

    public async Task<ApiProblem?> DisconnectAsync(string provider, CancellationToken ct)
    {
        if (Resolve(provider) is not { } oauth)
        {
            return UnknownProvider(provider);
        }

        var connection = await db.Connections.SingleOrDefaultAsync(c => c.Provider == provider && c.Status != ConnectionStatuses.Disconnected, ct);
        if (connection is null)
        {
            return new ApiProblem(404, ProblemCodes.NotConnected, $"{provider} is not connected.");
        }

        if (connection.ProtectedTokens is not null)
        {
            try
            {
                await oauth.RevokeAsync(protector.Unprotect(connection.ProtectedTokens), ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Revoking {Provider} tokens failed; disconnecting anyway", provider);
            }
        }

        connection.Status = ConnectionStatuses.Disconnected;
        connection.ProtectedTokens = null;
        connection.AccessTokenExpiresAt = null;
        connection.UpdatedAt = time.GetUtcNow();

        // Stop what runs for this provider: queued runs end now, a running one is told to stop.
        var now = time.GetUtcNow();
        var runIds = await db.SyncRuns
            .Where(r => r.Source == provider && (r.Status == SyncRunStatuses.Queued || r.Status == SyncRunStatuses.Running))
            .Select(r => r.Id)
            .ToListAsync(ct);
        await db.SyncRuns.Where(r => runIds.Contains(r.Id) && r.Status == SyncRunStatuses.Queued)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, SyncRunStatuses.Cancelled)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.ErrorCode, "disconnected"), ct);
        await db.SyncRuns.Where(r => runIds.Contains(r.Id))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.CancelRequested, true).SetProperty(r => r.UpdatedAt, now), ct);

        db.AuditLog.Add(new AuditEntry
        {
            TenantId = connection.TenantId,
            ActorUserId = tenant.UserId,
            Action = "integration.disconnected",
            Target = provider,
            InstanceId = instance.InstanceId
        });
        await db.SaveChangesAsync(ct);
        foreach (var runId in runIds)
        {
            await progress.SignalCancelAsync(runId);
        }

        return null;
    }

    private IOAuthProvider? Resolve(string provider) => providers.FirstOrDefault(p => p.Provider == provider);

    private Uri Frontend(string provider, string? error)
    {
        var query = error is null
            ? new Dictionary<string, string?> { ["connected"] = provider }
            : new Dictionary<string, string?> { ["error"] = error, ["provider"] = provider };
        return new Uri(QueryHelpers.AddQueryString(options.Value.FrontendUrl, query));
    }

    private static ApiProblem UnknownProvider(string provider) =>
        new(404, ProblemCodes.UnknownProvider, $"'{provider}' is not a provider. Known: {string.Join(", ", Sources.OAuthProviders)}.");

    private static string Capitalize(string s) => char.ToUpperInvariant(s[0]) + s[1..];
}
