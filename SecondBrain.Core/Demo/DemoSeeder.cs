using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.Auditing;
using SecondBrain.Core.Data;
using SecondBrain.Core.Identity;

namespace SecondBrain.Core.Demo;

/// <summary>
/// Creates the demo tenant and its admin once. Safe with several workers starting together: the unique e-mail
/// index lets exactly one insert win, the others find it there.
/// </summary>
public sealed class DemoSeeder(IServiceScopeFactory scopes, IOptions<DemoOptions> options, ILogger<DemoSeeder> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var demo = options.Value;
        if (!demo.Enabled)
        {
            return;
        }

        if (demo.AdminPassword.Length < 8)
        {
            logger.LogError("Demo:AdminPassword must be at least 8 characters; the demo tenant was not created");
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        var hasher = scope.ServiceProvider.GetRequiredService<IPasswordHasher<User>>();
        var normalized = User.Normalize(demo.AdminEmail);
        if (await db.Users.IgnoreQueryFilters().AnyAsync(u => u.NormalizedEmail == normalized, stoppingToken))
        {
            logger.LogInformation("Demo tenant already present; sign in as {Email}", demo.AdminEmail);
            return;
        }

        var tenant = new Tenant { Name = demo.TenantName };
        var admin = new User
        {
            TenantId = tenant.Id,
            Email = demo.AdminEmail,
            NormalizedEmail = normalized,
            DisplayName = "Demo Admin",
            PasswordHash = "",
            Role = Roles.Admin
        };
        admin.PasswordHash = hasher.HashPassword(admin, demo.AdminPassword);
        db.Tenants.Add(tenant);
        db.Users.Add(admin);
        db.AuditLog.Add(new AuditEntry { TenantId = tenant.Id, ActorUserId = admin.Id, Action = AuditActions.TenantCreated, Target = "demo" });
        try
        {
            await db.SaveChangesAsync(stoppingToken);
            logger.LogInformation("Demo tenant created; sign in as {Email}", demo.AdminEmail);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            logger.LogInformation("Another worker created the demo tenant first");
        }
    }
}
