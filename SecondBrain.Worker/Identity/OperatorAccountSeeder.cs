using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.Auditing;
using SecondBrain.Core.Data;
using SecondBrain.Core.Identity;

namespace SecondBrain.Worker.Identity;

/// <summary>
/// Creates each configured operator account that has a password and does not exist yet, in an operations tenant of
/// its own (so an operator's sign-in never lands in a customer's data). Signup refuses operator addresses, so nobody
/// can claim one first. Safe with several workers starting together: the unique e-mail index lets one insert win.
/// </summary>
internal sealed class OperatorAccountSeeder(IServiceScopeFactory scopes, IOptions<OperatorOptions> options, ILogger<OperatorAccountSeeder> logger) : BackgroundService
{
    public const string TenantName = "Operations";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Core.Resilience.UntilAvailable.RunAsync(SeedAsync, logger, "Operator account check", stoppingToken);

    private async Task SeedAsync(CancellationToken stoppingToken)
    {
        foreach (var account in options.Value.Accounts.Where(a => !string.IsNullOrWhiteSpace(a.Email) && !string.IsNullOrEmpty(a.Password)))
        {
            if (account.Password!.Length < 8)
            {
                logger.LogError("The operator password for {Email} is shorter than 8 characters; the account was not created", account.Email);
                continue;
            }

            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
            var hasher = scope.ServiceProvider.GetRequiredService<IPasswordHasher<User>>();
            var normalized = User.Normalize(account.Email);
            if (await db.Users.IgnoreQueryFilters().AnyAsync(u => u.NormalizedEmail == normalized, stoppingToken))
            {
                continue;
            }

            var tenant = new Tenant { Name = TenantName };
            var user = new User
            {
                TenantId = tenant.Id,
                Email = account.Email.Trim(),
                NormalizedEmail = normalized,
                DisplayName = account.DisplayName,
                PasswordHash = "",
                Role = Roles.Admin
            };
            user.PasswordHash = hasher.HashPassword(user, account.Password);
            db.Tenants.Add(tenant);
            db.Users.Add(user);
            db.AuditLog.Add(new AuditEntry { TenantId = tenant.Id, ActorUserId = user.Id, Action = AuditActions.UserCreated, Target = user.Id.ToString() });
            try
            {
                await db.SaveChangesAsync(stoppingToken);
                logger.LogInformation("Operator account {Email} created", account.Email);
            }
            catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                logger.LogInformation("Another worker created the operator account {Email} first", account.Email);
            }
        }
    }
}
