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
/// <summary>What the front end posts after the provider sent the browser back: the code and state from the redirect.</summary>
public sealed record CompleteConnectionRequest(string? Code, string? State, string? Error = null);

/// <summary>Codes of a failed connection: in the front-end redirect's <c>?error=</c>, or as problem codes of the completion.</summary>
public static class CallbackErrors
{
    public const string InvalidState = "invalid_state";
    public const string ProviderDenied = "provider_denied";
    public const string MissingCode = "missing_code";
    public const string TokenExchangeFailed = "token_exchange_failed";
    public const string ProviderUnavailable = "provider_unavailable";

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

    /// <summary>
    /// The provider's redirect, on any instance, from whichever browser comes back with it: it carries no proof of
    /// who started the flow, so nothing is exchanged here. The browser is sent on to the front end with the code and
    /// state, and the signed-in user's front end completes the connection (<see cref="CompleteAsync"/>).
    /// </summary>
    public Uri ForwardCallback(string provider, string? code, string? state, string? error)
    {
        var query = new Dictionary<string, string?> { ["provider"] = provider, ["state"] = state };
        if (!string.IsNullOrEmpty(error))
        {
            query["error"] = CallbackErrors.ProviderDenied;
        }
        else if (!string.IsNullOrEmpty(code))
        {
            query["code"] = code;
        }
        else
        {
            query["error"] = CallbackErrors.MissingCode;
        }

        return new Uri(QueryHelpers.AddQueryString(options.Value.FrontendUrl, query));
    }

    /// <summary>
    /// Completes a connection for the signed-in user, with the code and state the provider gave the browser. The
    /// stored attempt must be this user's (same tenant, same user, same provider): an attacker's authorize link that
    /// a victim consents to ends here with <c>invalid_state</c>, and no code is exchanged. The state is spent either way.
    /// </summary>
    public async Task<Outcome<IntegrationStatus>> CompleteAsync(string provider, CompleteConnectionRequest request, CancellationToken ct)
    {
        if (Resolve(provider) is not { } oauth)
        {
            return UnknownProvider(provider);
        }

        var attempt = await states.ConsumeAsync(request.State);
        if (attempt is null || attempt.Provider != provider || attempt.TenantId != tenant.TenantId || attempt.UserId != tenant.UserId)
        {
            logger.LogWarning("OAuth completion for {Provider} with an unknown, expired, replayed or another user's state", provider);
            return new ApiProblem(400, CallbackErrors.InvalidState,
                "This connection attempt is unknown, expired, already used, or was started by someone else. Connect again.");
        }

        if (!string.IsNullOrEmpty(request.Error))
        {
            return new ApiProblem(400, CallbackErrors.ProviderDenied, $"{provider} did not grant access ({request.Error}).");
        }

        if (string.IsNullOrEmpty(request.Code))
        {
            return new ApiProblem(400, CallbackErrors.MissingCode, "The provider's answer has no authorization code.");
        }

        ProviderTokens tokens;
        try
        {
            // Once: an authorization code is single-use, so a retry could only spend it twice (ProviderTokenClients).
            tokens = await oauth.ExchangeCodeAsync(request.Code, attempt.CodeVerifier, new Uri(attempt.RedirectUri), ct);
        }
        catch (ProviderOAuthException ex) when (ex.Error != CallbackErrors.ProviderUnavailable)
        {
            logger.LogWarning("{Provider} refused the code exchange: {Error}", provider, ex.Error);
            return new ApiProblem(400, CallbackErrors.TokenExchangeFailed, $"{provider} refused the authorization code ({ex.Error}). Connect again.");
        }
        catch (Exception ex) when (ex is HttpRequestException or ProviderOAuthException || (ex is TaskCanceledException && !ct.IsCancellationRequested))
        {
            logger.LogWarning("{Provider} token endpoint unreachable: {Message}", provider, ex.Message);
            return new ApiProblem(503, CallbackErrors.ProviderUnavailable, $"{provider} could not be reached to complete the connection. Connect again in a moment.")
            {
                RetryAfter = TimeSpan.FromSeconds(5)
            };
        }

        // Two completions of one tenant and provider may race; the unique (tenant, provider) index lets one insert
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

        return (await ListAsync(ct)).Single(s => s.Provider == provider);
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

    private static ApiProblem UnknownProvider(string provider) =>
        new(404, ProblemCodes.UnknownProvider, $"'{provider}' is not a provider. Known: {string.Join(", ", Sources.OAuthProviders)}.");

    private static string Capitalize(string s) => char.ToUpperInvariant(s[0]) + s[1..];
}
