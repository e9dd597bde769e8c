using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.Auditing;
using SecondBrain.Core.Data;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Identity;

namespace SecondBrain.Core.Demo;

/// <summary>
/// Creates the demo tenant and its admin once. Safe with several workers starting together: the unique e-mail
/// index lets exactly one insert win, the others find it there.
/// </summary>
public sealed class DemoSeeder(IServiceScopeFactory scopes, IOptions<DemoOptions> options, ILogger<DemoSeeder> logger) : BackgroundService
{
    /// <summary>The demo corpus written for the project (embedded markdown), queued for ingestion like any upload.</summary>
    private static void AddCorpus(SecondBrainDbContext db, Guid tenantId)
    {
        var assembly = typeof(DemoSeeder).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("SecondBrain.Demo.", StringComparison.Ordinal)).Order())
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            var text = reader.ReadToEnd();
            var title = text.Split('\n', 2)[0].TrimStart('#', ' ').Trim();
            var document = new Document
            {
                TenantId = tenantId,
                Source = DocumentService.UploadSource,
                ExternalId = "demo:" + name["SecondBrain.Demo.".Length..],
                Title = title,
                Author = "Northwind Labs",
                ContentType = "text/markdown",
                ContentHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text))),
                Text = text,
                Status = DocumentStatuses.Pending,
                Metadata = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["fileName"] = name["SecondBrain.Demo.".Length..] })
            };
            db.Documents.Add(document);
            db.IngestionJobs.Add(new IngestionJob { TenantId = tenantId, DocumentId = document.Id, DocumentVersion = document.Version, Kind = "upsert" });
        }
    }

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
        AddCorpus(db, tenant.Id);
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
