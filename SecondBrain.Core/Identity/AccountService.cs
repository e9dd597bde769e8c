using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Auditing;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Identity;

/// <summary>
/// The account lifecycle after sign-up: a person's sessions and password, an admin's changes to a user (role,
/// deactivation) and the tenant's audit trail. Every ending of a session is durable in Postgres (the refresh
/// sessions) and immediate on every instance through <see cref="AccessTokenRevocations"/>.
/// </summary>
public sealed class AccountService(
    SecondBrainDbContext db,
    ITenantContext tenant,
    LoginThrottle throttle,
    AccessTokenRevocations revocations,
    IPasswordHasher<User> passwordHasher,
    AuditTrail audit,
    TimeProvider time)
{
    public async Task<IReadOnlyList<SessionResponse>> ListSessionsAsync(Guid? currentFamily, CancellationToken ct)
    {
        var userId = RequireUser();
        var now = time.GetUtcNow();
        var rows = await db.RefreshSessions.AsNoTracking()
            .Where(s => s.UserId == userId)
            .Select(s => new { s.FamilyId, s.CreatedAt, s.ExpiresAt, s.RevokedAt, s.CreatedByInstance })
            .ToListAsync(ct);
        return [.. rows.GroupBy(r => r.FamilyId)
            .Select(g => (Family: g.Key, Active: g.FirstOrDefault(r => r.RevokedAt == null && r.ExpiresAt > now), SignedInAt: g.Min(r => r.CreatedAt)))
            .Where(f => f.Active is not null)
            .OrderByDescending(f => f.Active!.CreatedAt)
            .Select(f => new SessionResponse(f.Family, f.SignedInAt, f.Active!.CreatedAt, f.Active.ExpiresAt, f.Active.CreatedByInstance, f.Family == currentFamily))];
    }

    /// <summary>Ends one of the caller's sessions: its refresh token stops working and so do its access tokens.</summary>
    public async Task<Outcome<bool>> RevokeSessionAsync(Guid family, CancellationToken ct)
    {
        var userId = RequireUser();
        var revoked = await RevokeFamiliesAsync(userId, except: null, only: family, "revoked", ct);
        if (revoked == 0)
        {
            return ApiProblem.NotFound("The session");
        }

        audit.Add(tenant.TenantId!.Value, tenant.UserId, AuditActions.SessionRevoked, family.ToString());
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>
    /// Changes the caller's password after checking the current one (counted like a login attempt, so a stolen
    /// access token cannot be used to guess it), and ends every other session of theirs; this one stays signed in.
    /// </summary>
    public async Task<Outcome<bool>> ChangePasswordAsync(ChangePasswordRequest request, Guid? currentFamily, string client, CancellationToken ct)
    {
        var userId = RequireUser();
        if (new Validation()
                .Require(nameof(request.CurrentPassword), request.CurrentPassword)
                .Password(nameof(request.NewPassword), request.NewPassword)
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        var user = await db.Users.SingleAsync(u => u.Id == userId, ct);
        if (await throttle.BeginAttemptAsync(user.NormalizedEmail, client) is { } retryAfter)
        {
            return new ApiProblem(429, ProblemCodes.LoginThrottled, "Too many wrong passwords for this account from this address; try again later.") { RetryAfter = retryAfter };
        }

        if (passwordHasher.VerifyHashedPassword(user, user.PasswordHash, request.CurrentPassword!) == PasswordVerificationResult.Failed)
        {
            return new ApiProblem(400, ProblemCodes.ValidationFailed, "The current password is not correct.",
                new Dictionary<string, string[]> { ["currentPassword"] = ["The current password is not correct."] });
        }

        await throttle.SucceededAsync(user.NormalizedEmail, client);
        user.PasswordHash = passwordHasher.HashPassword(user, request.NewPassword!);
        await RevokeFamiliesAsync(userId, except: currentFamily, only: null, "password_changed", ct);
        audit.Add(tenant.TenantId!.Value, tenant.UserId, AuditActions.PasswordChanged, userId.ToString());
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>
    /// An admin changes a user's role or deactivates (or reactivates) them. Deactivation ends every session of the
    /// user and their access tokens stop working on every instance at once; a role change makes their current access
    /// tokens stale, so the next refresh carries the new role. An admin cannot deactivate or demote themselves, so a
    /// tenant always keeps an admin who can undo it.
    /// </summary>
    public async Task<Outcome<UserResponse>> UpdateUserAsync(Guid id, UpdateUserRequest request, CancellationToken ct)
    {
        var actor = RequireUser();
        var role = request.Role?.Trim().ToLowerInvariant();
        if (new Validation()
                .Check(role is null || Roles.IsKnown(role), nameof(request.Role), "Role must be 'admin' or 'member'.")
                .Check(role is not null || request.Active is not null, nameof(request.Role), "Give a role, active, or both.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == id, ct);
        if (user is null)
        {
            return ApiProblem.NotFound("The user");
        }

        if (user.Id == actor && (request.Active == false || role is not null && role != Roles.Admin))
        {
            return new ApiProblem(409, ProblemCodes.LastAdmin, "You cannot deactivate or demote yourself; another admin can.");
        }

        var staleTokens = false;
        if (role is not null && role != user.Role)
        {
            audit.Add(tenant.TenantId!.Value, tenant.UserId, AuditActions.RoleChanged, user.Id.ToString(), new { From = user.Role, To = role });
            user.Role = role;
            staleTokens = true;
        }

        if (request.Active == false && user.DeactivatedAt is null)
        {
            user.DeactivatedAt = time.GetUtcNow();
            await RevokeFamiliesAsync(user.Id, except: null, only: null, "deactivated", ct);
            audit.Add(tenant.TenantId!.Value, tenant.UserId, AuditActions.UserDeactivated, user.Id.ToString());
            staleTokens = true;
        }
        else if (request.Active == true && user.DeactivatedAt is not null)
        {
            user.DeactivatedAt = null;
            audit.Add(tenant.TenantId!.Value, tenant.UserId, AuditActions.UserReactivated, user.Id.ToString());
        }

        await db.SaveChangesAsync(ct);
        if (staleTokens)
        {
            await revocations.RevokeUserTokensAsync(user.Id);
        }

        return UserResponse.From(user);
    }

    public async Task<PagedResult<AuditEntryResponse>> ListAuditAsync(PageRequest page, string? action, CancellationToken ct)
    {
        page = page.Normalized;
        var query = db.AuditLog.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(action))
        {
            query = query.Where(a => a.Action == action);
        }

        var ordered = query.OrderByDescending(a => a.At).ThenByDescending(a => a.Id);
        var total = await ordered.LongCountAsync(ct);
        var items = await ordered.Skip(page.Skip).Take(page.PageSize)
            .Select(a => new AuditEntryResponse(a.Id, a.At, a.ActorUserId, a.Action, a.Target, a.Detail, a.InstanceId))
            .ToListAsync(ct);
        return new PagedResult<AuditEntryResponse>(items, page.Page, page.PageSize, total);
    }

    private async Task<int> RevokeFamiliesAsync(Guid userId, Guid? except, Guid? only, string reason, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var sessions = db.RefreshSessions.Where(s => s.UserId == userId && s.RevokedAt == null);
        if (except is { } keep)
        {
            sessions = sessions.Where(s => s.FamilyId != keep);
        }

        if (only is { } family)
        {
            sessions = sessions.Where(s => s.FamilyId == family);
        }

        var families = await sessions.Select(s => s.FamilyId).Distinct().ToListAsync(ct);
        if (families.Count == 0)
        {
            return 0;
        }

        await sessions.ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now).SetProperty(x => x.RevokedReason, reason), ct);
        await revocations.RevokeFamiliesAsync(families);
        return families.Count;
    }

    private Guid RequireUser() => tenant.UserId ?? throw new InvalidOperationException("This needs a signed-in user.");
}
