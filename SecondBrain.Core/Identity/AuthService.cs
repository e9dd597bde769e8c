using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.Auditing;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Tenancy;
using SecondBrain.ServiceDefaults.Telemetry;

namespace SecondBrain.Core.Identity;

/// <summary>
/// Sign-up, login, refresh-token rotation and logout. All state is in Postgres (users, sessions) and Redis
/// (failed-login counters, revoked access tokens), so any instance can serve any step.
/// </summary>
public sealed class AuthService(
    SecondBrainDbContext db,
    ITenantContext tenant,
    TokenService tokens,
    LoginThrottle throttle,
    AccessTokenRevocations revocations,
    IPasswordHasher<User> passwordHasher,
    IOptions<JwtOptions> jwtOptions,
    IOptionsMonitor<OperatorOptions> operators,
    InstanceIdentity instance,
    AuditTrail audit,
    TimeProvider time)
{
    // An operator's address counts as taken: the deployment's seeder owns it, so no tenant can claim it first.
    private static readonly ApiProblem EmailTaken = new(409, ProblemCodes.EmailTaken, "A user with this e-mail address already exists.");
    private static readonly ApiProblem InvalidCredentials = new(401, ProblemCodes.InvalidCredentials, "The e-mail or password is incorrect.");
    private static readonly ApiProblem InvalidRefreshToken = new(401, ProblemCodes.InvalidRefreshToken, "The refresh token is unknown, expired or revoked.");
    private static readonly ApiProblem RefreshReused = new(401, ProblemCodes.RefreshTokenReused,
        "This refresh token was already used. All sessions that descend from it are revoked; sign in again.");

    public static ApiProblem? ValidateSignup(SignupRequest request) => new Validation()
        .Require(nameof(request.TenantName), request.TenantName)
        .Email(nameof(request.Email), request.Email)
        .Password(nameof(request.Password), request.Password)
        .Require(nameof(request.DisplayName), request.DisplayName)
        .ToProblem();

    /// <summary>Creates the tenant at once (sign-up without address confirmation, <see cref="SignupOptions.VerifyEmail"/> off).</summary>
    public async Task<Outcome<SignupResponse>> SignupAsync(SignupRequest request, CancellationToken ct)
    {
        if (ValidateSignup(request) is { } invalid)
        {
            return invalid;
        }

        if (operators.CurrentValue.IsOperator(request.Email!))
        {
            return EmailTaken;
        }

        var tenantRow = new Tenant { Name = request.TenantName!.Trim() };
        return await CreateTenantAsync(tenantRow, NewUser(tenantRow.Id, request.Email!, request.Password!, request.DisplayName!, Roles.Admin), ct);
    }

    /// <summary>Creates the tenant of a sign-up whose address was confirmed, with the password hashed when it was asked for.</summary>
    public async Task<Outcome<SignupResponse>> CompleteSignupAsync(PendingSignup pending, CancellationToken ct)
    {
        if (operators.CurrentValue.IsOperator(pending.Email))
        {
            return EmailTaken;
        }

        var tenantRow = new Tenant { Id = pending.TenantId, Name = pending.TenantName };
        var user = new User
        {
            TenantId = tenantRow.Id,
            Email = pending.Email,
            NormalizedEmail = pending.NormalizedEmail,
            DisplayName = pending.DisplayName,
            PasswordHash = pending.PasswordHash,
            Role = Roles.Admin
        };
        return await CreateTenantAsync(tenantRow, user, ct);
    }

    private async Task<Outcome<SignupResponse>> CreateTenantAsync(Tenant tenantRow, User user, CancellationToken ct)
    {
        db.Tenants.Add(tenantRow);
        db.Users.Add(user);
        audit.Add(tenantRow.Id, user.Id, AuditActions.TenantCreated, tenantRow.Id.ToString());
        audit.Add(tenantRow.Id, user.Id, AuditActions.UserCreated, user.Id.ToString(), new { user.Email, user.Role });

        if (await TrySaveNewUserAsync(ct) is { } conflict)
        {
            return conflict;
        }

        var issued = await IssueTokensAsync(user, familyId: null, ct);
        return new SignupResponse(new TenantResponse(tenantRow.Id, tenantRow.Name, tenantRow.CreatedAt), UserResponse.From(user), issued);
    }

    /// <param name="client">The caller's address: failed attempts are counted per account and address.</param>
    public async Task<Outcome<TokenResponse>> LoginAsync(LoginRequest request, string client, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Email) || string.IsNullOrEmpty(request.Password))
        {
            return new Validation()
                .Require(nameof(request.Email), request.Email)
                .Require(nameof(request.Password), request.Password)
                .ToProblem()!;
        }

        var normalized = User.Normalize(request.Email);
        if (await throttle.BeginAttemptAsync(normalized, client) is { } retryAfter)
        {
            return new ApiProblem(429, ProblemCodes.LoginThrottled, "Too many failed logins for this account from this address; try again later.")
            {
                RetryAfter = retryAfter
            };
        }

        var user = await db.Users.IgnoreQueryFilters().SingleOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
        // An unknown address is verified against a stand-in hash, so it costs what a known one does: the time
        // taken reveals nothing about who is registered.
        var verdict = user is null
            ? VerifyAgainstStandIn(request.Password)
            : passwordHasher.VerifyHashedPassword(user, user.PasswordHash, request.Password);

        if (user is null || verdict == PasswordVerificationResult.Failed)
        {
            if (user is not null)
            {
                audit.Add(user.TenantId, user.Id, AuditActions.LoginFailed, user.Id.ToString());
                await db.SaveChangesAsync(ct);
            }

            return InvalidCredentials;
        }

        // Said only to someone who knows the password, so it reveals nothing to a guesser.
        if (user.DeactivatedAt is not null)
        {
            return new ApiProblem(403, ProblemCodes.AccountDeactivated, "This account has been deactivated by an administrator of its tenant.");
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = passwordHasher.HashPassword(user, request.Password);
        }

        await throttle.SucceededAsync(normalized, client);
        user.LastLoginAt = time.GetUtcNow();
        audit.Add(user.TenantId, user.Id, AuditActions.LoginSucceeded, user.Id.ToString());
        return await IssueTokensAsync(user, familyId: null, ct);
    }

    private static readonly User StandInUser = new() { Email = "", NormalizedEmail = "", DisplayName = "", PasswordHash = "", Role = Roles.Member };
    private static string? _standInHash;

    private PasswordVerificationResult VerifyAgainstStandIn(string password)
    {
        var hash = _standInHash ??= passwordHasher.HashPassword(StandInUser, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        passwordHasher.VerifyHashedPassword(StandInUser, hash, password);
        return PasswordVerificationResult.Failed;
    }

    public async Task<Outcome<TokenResponse>> RefreshAsync(RefreshRequest request, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.RefreshToken))
        {
            return new Validation().Require(nameof(request.RefreshToken), request.RefreshToken).ToProblem()!;
        }

        var hash = TokenService.HashRefreshToken(request.RefreshToken);
        var session = await db.RefreshSessions.IgnoreQueryFilters().AsNoTracking().SingleOrDefaultAsync(s => s.TokenHash == hash, ct);
        var now = time.GetUtcNow();
        if (session is null)
        {
            return InvalidRefreshToken;
        }

        if (session.ReplacedBySessionId is not null)
        {
            await RevokeFamilyAfterReuseAsync(session, ct);
            return RefreshReused;
        }

        if (session.RevokedAt is not null || session.ExpiresAt <= now)
        {
            return InvalidRefreshToken;
        }

        var user = await db.Users.IgnoreQueryFilters().SingleOrDefaultAsync(u => u.Id == session.UserId, ct);
        if (user is null || user.DeactivatedAt is not null)
        {
            return InvalidRefreshToken;
        }

        var (token, tokenHash) = TokenService.CreateRefreshToken();
        var next = NewSession(user, session.FamilyId, tokenHash);

        // Conditional update: of two instances rotating the same token at once, exactly one wins; the other sees
        // zero rows and treats the token as reused, which is what it is. The update and the new session commit
        // together, inside the retrying execution strategy Aspire configures.
        var strategy = db.Database.CreateExecutionStrategy();
        var won = await strategy.ExecuteAsync(async cancellation =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellation);
            var rotated = await db.RefreshSessions.IgnoreQueryFilters()
                .Where(s => s.Id == session.Id && s.RevokedAt == null && s.ReplacedBySessionId == null)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(x => x.RevokedAt, now)
                    .SetProperty(x => x.RevokedReason, "rotated")
                    .SetProperty(x => x.ReplacedBySessionId, next.Id), cancellation);
            if (rotated == 0)
            {
                await transaction.RollbackAsync(cancellation);
                return false;
            }

            db.RefreshSessions.Add(next);
            await db.SaveChangesAsync(cancellation);
            await transaction.CommitAsync(cancellation);
            return true;
        }, ct);

        if (!won)
        {
            await RevokeFamilyAfterReuseAsync(session, ct);
            return RefreshReused;
        }

        var access = tokens.CreateAccessToken(user, next.FamilyId);
        return new TokenResponse(access.Token, access.ExpiresAt, token, next.ExpiresAt);
    }

    /// <summary>Ends the caller's session: the given refresh token's family (or all of the user's sessions) and the current access token.</summary>
    public async Task LogoutAsync(string? refreshToken, string? accessTokenId, DateTimeOffset? accessTokenExpiresAt, CancellationToken ct)
    {
        var userId = tenant.UserId ?? throw new InvalidOperationException("Logout needs an authenticated user.");
        var now = time.GetUtcNow();
        var sessions = db.RefreshSessions.Where(s => s.UserId == userId && s.RevokedAt == null);

        if (!string.IsNullOrWhiteSpace(refreshToken))
        {
            var hash = TokenService.HashRefreshToken(refreshToken);
            var family = await db.RefreshSessions.Where(s => s.UserId == userId && s.TokenHash == hash)
                .Select(s => (Guid?)s.FamilyId).SingleOrDefaultAsync(ct);
            sessions = family is { } familyId ? sessions.Where(s => s.FamilyId == familyId) : sessions.Where(_ => false);
        }

        var families = await sessions.Select(s => s.FamilyId).Distinct().ToListAsync(ct);
        await sessions.ExecuteUpdateAsync(s => s
            .SetProperty(x => x.RevokedAt, now)
            .SetProperty(x => x.RevokedReason, "logout"), ct);
        await revocations.RevokeFamiliesAsync(families);

        if (accessTokenId is not null && accessTokenExpiresAt is { } expires)
        {
            await revocations.RevokeAsync(accessTokenId, expires);
        }

        audit.Add(tenant.TenantId!.Value, userId, AuditActions.LoggedOut, userId.ToString());
        await db.SaveChangesAsync(ct);
    }

    public async Task<Outcome<MeResponse>> GetCurrentUserAsync(CancellationToken ct)
    {
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == tenant.UserId, ct);
        if (user is null)
        {
            return ApiProblem.NotFound("The user");
        }

        var tenantRow = await db.Tenants.SingleAsync(t => t.Id == user.TenantId, ct);
        return new MeResponse(UserResponse.From(user), new TenantResponse(tenantRow.Id, tenantRow.Name, tenantRow.CreatedAt));
    }

    /// <summary>An admin adds a user to their own tenant.</summary>
    public async Task<Outcome<UserResponse>> CreateUserAsync(CreateUserRequest request, CancellationToken ct)
    {
        var role = string.IsNullOrWhiteSpace(request.Role) ? Roles.Member : request.Role.Trim().ToLowerInvariant();
        if (new Validation()
                .Email(nameof(request.Email), request.Email)
                .Password(nameof(request.Password), request.Password)
                .Require(nameof(request.DisplayName), request.DisplayName)
                .Check(Roles.IsKnown(role), nameof(request.Role), "Role must be 'admin' or 'member'.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        if (operators.CurrentValue.IsOperator(request.Email!))
        {
            return EmailTaken;
        }

        var tenantId = tenant.TenantId ?? throw new InvalidOperationException("Creating a user needs a tenant.");
        var user = NewUser(tenantId, request.Email!, request.Password!, request.DisplayName!, role);
        db.Users.Add(user);
        audit.Add(tenantId, tenant.UserId, AuditActions.UserCreated, user.Id.ToString(), new { user.Email, user.Role });
        if (await TrySaveNewUserAsync(ct) is { } conflict)
        {
            return conflict;
        }

        return UserResponse.From(user);
    }

    public async Task<UserResponse?> FindUserAsync(Guid id, CancellationToken ct) =>
        await db.Users.AsNoTracking().Where(u => u.Id == id).Select(u => UserResponse.From(u)).SingleOrDefaultAsync(ct);

    public async Task<PagedResult<UserResponse>> ListUsersAsync(PageRequest page, CancellationToken ct)
    {
        page = page.Normalized;
        var query = db.Users.AsNoTracking().OrderBy(u => u.CreatedAt).ThenBy(u => u.Id);
        var total = await query.LongCountAsync(ct);
        var items = await query.Skip(page.Skip).Take(page.PageSize).Select(u => UserResponse.From(u)).ToListAsync(ct);
        return new PagedResult<UserResponse>(items, page.Page, page.PageSize, total);
    }

    private User NewUser(Guid tenantId, string email, string password, string displayName, string role)
    {
        var user = new User
        {
            TenantId = tenantId,
            Email = email.Trim(),
            NormalizedEmail = User.Normalize(email),
            DisplayName = displayName.Trim(),
            PasswordHash = "",
            Role = role
        };
        user.PasswordHash = passwordHasher.HashPassword(user, password);
        return user;
    }

    private async Task<ApiProblem?> TrySaveNewUserAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return null;
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            return EmailTaken;
        }
    }

    private async Task<TokenResponse> IssueTokensAsync(User user, Guid? familyId, CancellationToken ct)
    {
        var (token, hash) = TokenService.CreateRefreshToken();
        var session = NewSession(user, familyId ?? Guid.CreateVersion7(), hash);
        db.RefreshSessions.Add(session);
        await db.SaveChangesAsync(ct);
        var access = tokens.CreateAccessToken(user, session.FamilyId);
        return new TokenResponse(access.Token, access.ExpiresAt, token, session.ExpiresAt);
    }

    private RefreshSession NewSession(User user, Guid familyId, byte[] tokenHash) => new()
    {
        TenantId = user.TenantId,
        UserId = user.Id,
        FamilyId = familyId,
        TokenHash = tokenHash,
        CreatedAt = time.GetUtcNow(),
        ExpiresAt = time.GetUtcNow().Add(jwtOptions.Value.RefreshTokenLifetime),
        CreatedByInstance = instance.InstanceId
    };

    private async Task RevokeFamilyAfterReuseAsync(RefreshSession presented, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await db.RefreshSessions.IgnoreQueryFilters()
            .Where(s => s.FamilyId == presented.FamilyId && s.RevokedAt == null)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.RevokedAt, now)
                .SetProperty(x => x.RevokedReason, "reuse_detected"), ct);
        // The thief's access token (and the owner's) of this family stop now, not when they expire.
        await revocations.RevokeFamiliesAsync([presented.FamilyId]);
        audit.Add(presented.TenantId, presented.UserId, AuditActions.RefreshReuseDetected, presented.FamilyId.ToString());
        await db.SaveChangesAsync(ct);
    }
}
