using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Mail;
using SecondBrain.Core.Work;

namespace SecondBrain.Core.Identity;

/// <summary>
/// Sign-up that proves the address before creating anything, so no response reveals who is registered: a request
/// always answers the same and does the same work (hashes the password, writes one mail to the outbox). A new
/// address gets a single-use link (<see cref="SignupOptions.VerificationLifetime"/>) that creates the tenant; a
/// registered one gets a note that it already has an account, with the way to sign in or reset the password.
/// </summary>
public sealed class SignupService(
    SecondBrainDbContext db,
    AuthService auth,
    MailOutbox outbox,
    WorkSignals signals,
    IPasswordHasher<User> passwordHasher,
    IOptions<SignupOptions> options,
    IOptions<MailOptions> mail,
    IOptionsMonitor<OperatorOptions> operators,
    TimeProvider time,
    ILogger<SignupService> logger)
{
    private static readonly ApiProblem InvalidToken = new(400, ProblemCodes.InvalidSignupToken,
        "The sign-up link is unknown, used or expired; sign up again to get a new one.");

    private static readonly User HashingSubject = new() { Email = "", NormalizedEmail = "", DisplayName = "", PasswordHash = "", Role = Roles.Member };

    public async Task<Outcome<SignupPendingResponse>> RequestAsync(SignupRequest request, CancellationToken ct)
    {
        if (AuthService.ValidateSignup(request) is { } invalid)
        {
            return invalid;
        }

        var email = request.Email!.Trim();
        var normalized = User.Normalize(email);
        // Hashed whatever the address, so a registered one answers in the time a new one takes.
        var passwordHash = passwordHasher.HashPassword(HashingSubject, request.Password!);
        var frontend = mail.Value.FrontendUrl.TrimEnd('/');
        var now = time.GetUtcNow();
        // Spent and expired sign-ups are of no use; every request clears them, whichever address it names, so the
        // table holds only live links and both answers do the same work.
        await db.PendingSignups.Where(p => p.ExpiresAt <= now || p.CompletedAt != null).ExecuteDeleteAsync(ct);
        var existing = await db.Users.IgnoreQueryFilters().AsNoTracking().SingleOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
        if (existing is not null)
        {
            outbox.Add(existing.TenantId, existing.Email, "You already have a SecondBrain account", $"""
                Hello {existing.DisplayName},

                Someone (we hope you) tried to create a new SecondBrain account with this address. It already has one,
                so nothing was created. Sign in at {frontend}/login, or if you forgot the password, reset it at
                {frontend}/reset-password.

                If this was not you, you can ignore this mail.
                """);
            logger.LogInformation("Sign-up asked for an address that already has an account; a note was mailed to it");
        }
        else if (operators.CurrentValue.IsOperator(email))
        {
            // The deployment's operator address, not seeded yet: nothing to create and nobody to tell.
            logger.LogInformation("Sign-up asked for an operator's address; refused silently");
        }
        else
        {
            var token = OpaqueToken.New();
            var pending = new PendingSignup
            {
                TenantName = request.TenantName!.Trim(),
                Email = email,
                NormalizedEmail = normalized,
                DisplayName = request.DisplayName!.Trim(),
                PasswordHash = passwordHash,
                TokenHash = OpaqueToken.Hash(token),
                CreatedAt = now,
                ExpiresAt = now + options.Value.VerificationLifetime
            };
            db.PendingSignups.Add(pending);
            outbox.Add(pending.TenantId, email, "Confirm your SecondBrain sign-up", $"""
                Hello {pending.DisplayName},

                To finish creating "{pending.TenantName}" on SecondBrain, confirm that this address is yours:
                {frontend}/confirm-signup?token={Uri.EscapeDataString(token)}

                The link works once, for {options.Value.VerificationLifetime.TotalHours:0} hours. If you did not sign up, ignore this mail: nothing is created.
                """);
        }

        await db.SaveChangesAsync(ct);
        await signals.WakeAsync(WorkQueues.Mail);
        return new SignupPendingResponse(email, "Check your inbox: we sent a link to finish signing up.");
    }

    /// <summary>
    /// Spends the mailed token and creates the tenant and its admin in one transaction: of two confirmations one
    /// wins, and a crash between the two leaves the link usable.
    /// </summary>
    public async Task<Outcome<SignupResponse>> ConfirmAsync(SignupConfirmRequest request, CancellationToken ct)
    {
        if (new Validation().Require(nameof(request.Token), request.Token, maxLength: 200).ToProblem() is { } invalid)
        {
            return invalid;
        }

        var hash = OpaqueToken.Hash(request.Token!);
        var now = time.GetUtcNow();
        var pending = await db.PendingSignups.AsNoTracking().SingleOrDefaultAsync(p => p.TokenHash == hash, ct);
        if (pending is null || pending.CompletedAt is not null || pending.ExpiresAt <= now)
        {
            return InvalidToken;
        }

        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async cancellation =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellation);
            var spent = await db.PendingSignups.Where(p => p.Id == pending.Id && p.CompletedAt == null && p.ExpiresAt > now)
                .ExecuteUpdateAsync(p => p.SetProperty(x => x.CompletedAt, now), cancellation);
            if (spent == 0)
            {
                await transaction.RollbackAsync(cancellation);
                return (Outcome<SignupResponse>)InvalidToken;
            }

            var created = await auth.CompleteSignupAsync(pending, cancellation);
            if (created.Succeeded)
            {
                await transaction.CommitAsync(cancellation);
            }
            else
            {
                await transaction.RollbackAsync(cancellation);
            }

            return created;
        }, ct);
    }
}
