using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Auditing;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Mail;
using SecondBrain.Core.Tenancy;
using SecondBrain.Core.Work;

namespace SecondBrain.Core.Identity;

/// <summary>
/// Password reset by e-mail: a request always answers the same (no endpoint reveals who is registered); for an
/// active account it stores a token's hash (30 minutes, single use) and puts the link in the mail outbox in the same
/// transaction. Confirming spends the token with a conditional update, so of two confirmations one wins, sets the
/// password and ends every session of the user on every instance.
/// </summary>
public sealed class PasswordResetService(
    SecondBrainDbContext db,
    TenantContext tenant,
    MailOutbox outbox,
    WorkSignals signals,
    AccessTokenRevocations revocations,
    IPasswordHasher<User> passwordHasher,
    IOptions<MailOptions> mail,
    AuditTrail audit,
    TimeProvider time,
    ILogger<PasswordResetService> logger)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(30);

    private static readonly ApiProblem InvalidToken = new(400, ProblemCodes.InvalidResetToken, "The reset link is unknown, used or expired; ask for a new one.");

    public async Task<Outcome<bool>> RequestAsync(PasswordResetRequest request, CancellationToken ct)
    {
        if (new Validation().Email(nameof(request.Email), request.Email).ToProblem() is { } invalid)
        {
            return invalid;
        }

        var normalized = User.Normalize(request.Email!);
        var user = await db.Users.IgnoreQueryFilters().AsNoTracking().SingleOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
        if (user is null || user.DeactivatedAt is not null)
        {
            logger.LogInformation("Password reset asked for an address with no active account");
            return true;
        }

        tenant.Set(user.TenantId, user.Id);
        var token = OpaqueToken.New();
        var now = time.GetUtcNow();
        db.PasswordResetTokens.Add(new PasswordResetToken { UserId = user.Id, TokenHash = OpaqueToken.Hash(token), CreatedAt = now, ExpiresAt = now + Lifetime });
        var link = $"{mail.Value.FrontendUrl.TrimEnd('/')}/reset-password?token={Uri.EscapeDataString(token)}";
        outbox.Add(user.TenantId, user.Email, "Reset your SecondBrain password", $"""
            Hello {user.DisplayName},

            Someone (we hope you) asked to reset the password of your SecondBrain account. To choose a new one, open
            {link}

            The link works once, for {Lifetime.TotalMinutes:0} minutes. If you did not ask for it, ignore this mail: your password stays as it is.
            """);
        audit.Add(user.TenantId, user.Id, AuditActions.PasswordResetRequested, user.Id.ToString());
        await db.SaveChangesAsync(ct);
        await signals.WakeAsync(WorkQueues.Mail);
        return true;
    }

    public async Task<Outcome<bool>> ConfirmAsync(PasswordResetConfirmRequest request, CancellationToken ct)
    {
        if (new Validation()
                .Require(nameof(request.Token), request.Token, maxLength: 200)
                .Password(nameof(request.NewPassword), request.NewPassword)
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        var hash = OpaqueToken.Hash(request.Token!);
        var now = time.GetUtcNow();
        var reset = await db.PasswordResetTokens.IgnoreQueryFilters().AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, ct);
        if (reset is null || reset.UsedAt is not null || reset.ExpiresAt <= now)
        {
            return InvalidToken;
        }

        tenant.Set(reset.TenantId, reset.UserId);
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == reset.UserId, ct);
        if (user is null || user.DeactivatedAt is not null)
        {
            return InvalidToken;
        }

        var strategy = db.Database.CreateExecutionStrategy();
        var won = await strategy.ExecuteAsync(async cancellation =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellation);
            var spent = await db.PasswordResetTokens.Where(t => t.Id == reset.Id && t.UsedAt == null && t.ExpiresAt > now)
                .ExecuteUpdateAsync(t => t.SetProperty(x => x.UsedAt, now), cancellation);
            if (spent == 0)
            {
                await transaction.RollbackAsync(cancellation);
                return false;
            }

            user.PasswordHash = passwordHasher.HashPassword(user, request.NewPassword!);
            await db.RefreshSessions.Where(s => s.UserId == user.Id && s.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now).SetProperty(x => x.RevokedReason, "password_reset"), cancellation);
            audit.Add(user.TenantId, user.Id, AuditActions.PasswordReset, user.Id.ToString());
            await db.SaveChangesAsync(cancellation);
            await transaction.CommitAsync(cancellation);
            return true;
        }, ct);

        if (!won)
        {
            return InvalidToken;
        }

        await revocations.RevokeUserTokensAsync(user.Id);
        return true;
    }
}
