using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Auditing;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Identity;

/// <summary>The user a valid API key acts as.</summary>
public sealed record ApiKeyPrincipal(Guid KeyId, Guid TenantId, Guid UserId, string Email, string DisplayName, string Role, IReadOnlyList<string> Scopes);

/// <summary>Personal API keys: created (shown once), listed, revoked by their owner; resolved on every request that presents one.</summary>
public sealed class ApiKeyService(SecondBrainDbContext db, ITenantContext tenant, AuditTrail audit, TimeProvider time)
{
    /// <summary>Every key starts so, which is how a request's bearer value is told from an access token.</summary>
    public const string KeyPrefix = "sbk_";

    private const int MaxKeysPerUser = 25;

    public static bool LooksLikeKey(string? value) => value is { Length: > 20 } v && v.StartsWith(KeyPrefix, StringComparison.Ordinal);


    public async Task<Outcome<CreatedApiKeyResponse>> CreateAsync(CreateApiKeyRequest request, CancellationToken ct)
    {
        var userId = tenant.UserId ?? throw new InvalidOperationException("Creating an API key needs a signed-in user.");
        var scopes = (request.Scopes is { Count: > 0 } s ? s : [ApiKeyScopes.Read]).Select(x => x?.Trim().ToLowerInvariant() ?? "").Distinct().ToArray();
        if (new Validation()
                .Require(nameof(request.Name), request.Name, maxLength: 100)
                .Check(scopes.All(ApiKeyScopes.IsKnown), nameof(request.Scopes), "Scopes are 'read' and 'write'.")
                .Check(request.ExpiresInDays is null or (>= 1 and <= 730), nameof(request.ExpiresInDays), "ExpiresInDays must be from 1 to 730.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        if (await db.ApiKeys.CountAsync(k => k.UserId == userId && k.RevokedAt == null, ct) >= MaxKeysPerUser)
        {
            return new ApiProblem(409, ProblemCodes.Conflict, $"You have {MaxKeysPerUser} active API keys; revoke one first.");
        }

        var key = KeyPrefix + OpaqueToken.New();
        var now = time.GetUtcNow();
        var row = new ApiKey
        {
            UserId = userId,
            Name = request.Name!.Trim(),
            Prefix = key[..(KeyPrefix.Length + 6)],
            KeyHash = OpaqueToken.Hash(key),
            Scopes = scopes,
            CreatedAt = now,
            ExpiresAt = request.ExpiresInDays is { } days ? now.AddDays(days) : null
        };
        db.ApiKeys.Add(row);
        audit.Add(tenant.TenantId!.Value, tenant.UserId, AuditActions.ApiKeyCreated, row.Id.ToString(), new { row.Name, row.Scopes });
        await db.SaveChangesAsync(ct);
        return new CreatedApiKeyResponse(ApiKeyResponse.From(row), key);
    }

    public async Task<IReadOnlyList<ApiKeyResponse>> ListAsync(CancellationToken ct)
    {
        var userId = tenant.UserId ?? throw new InvalidOperationException("Listing API keys needs a signed-in user.");
        var rows = await db.ApiKeys.AsNoTracking().Where(k => k.UserId == userId && k.RevokedAt == null).OrderByDescending(k => k.CreatedAt).ToListAsync(ct);
        return [.. rows.Select(ApiKeyResponse.From)];
    }

    public async Task<Outcome<bool>> RevokeAsync(Guid id, CancellationToken ct)
    {
        var userId = tenant.UserId ?? throw new InvalidOperationException("Revoking an API key needs a signed-in user.");
        var now = time.GetUtcNow();
        var revoked = await db.ApiKeys.Where(k => k.Id == id && k.UserId == userId && k.RevokedAt == null)
            .ExecuteUpdateAsync(k => k.SetProperty(x => x.RevokedAt, now), ct);
        if (revoked == 0)
        {
            return ApiProblem.NotFound("The API key");
        }

        audit.Add(tenant.TenantId!.Value, tenant.UserId, AuditActions.ApiKeyRevoked, id.ToString());
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>
    /// The user a presented key acts as, or null when the key is unknown, revoked, expired or its user deactivated.
    /// Read from Postgres on every request, so a revocation or deactivation holds on every instance at once. The
    /// last-used time is written at most once a minute per key.
    /// </summary>
    public async Task<ApiKeyPrincipal?> ResolveAsync(string key, CancellationToken ct)
    {
        var hash = OpaqueToken.Hash(key);
        var now = time.GetUtcNow();
        var found = await db.ApiKeys.IgnoreQueryFilters().AsNoTracking()
            .Where(k => k.KeyHash == hash && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now))
            .Join(db.Users.IgnoreQueryFilters(), k => k.UserId, u => u.Id, (k, u) => new { Key = k, User = u })
            .Where(x => x.User.DeactivatedAt == null)
            .SingleOrDefaultAsync(ct);
        if (found is null)
        {
            return null;
        }

        if (found.Key.LastUsedAt is not { } last || now - last > TimeSpan.FromMinutes(1))
        {
            await db.ApiKeys.IgnoreQueryFilters().Where(k => k.Id == found.Key.Id)
                .ExecuteUpdateAsync(k => k.SetProperty(x => x.LastUsedAt, now), ct);
        }

        return new ApiKeyPrincipal(found.Key.Id, found.Key.TenantId, found.User.Id, found.User.Email, found.User.DisplayName, found.User.Role, found.Key.Scopes);
    }
}
