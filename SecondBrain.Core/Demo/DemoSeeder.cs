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
    /// <summary>
    /// The demo corpus written for the project (embedded markdown), queued for ingestion like any upload. Pages have no
    /// author (the company is nobody's name); a file that opens with mail headers (From, To, Subject, Message-ID) is a
    /// message: its sender is the author and its Message-ID is kept, as an imported mail's would be.
    /// </summary>
    public static void AddCorpus(SecondBrainDbContext db, Guid tenantId)
    {
        var assembly = typeof(DemoSeeder).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("SecondBrain.Demo.", StringComparison.Ordinal)).Order())
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            var fileName = name["SecondBrain.Demo.".Length..];
            var (headers, text) = MailHeaders(reader.ReadToEnd());
            var title = headers.GetValueOrDefault("subject") ?? text.Split('\n', 2)[0].TrimStart('#', ' ').Trim();
            var metadata = new Dictionary<string, string> { ["fileName"] = fileName };
            if (headers.TryGetValue("message-id", out var messageId))
            {
                metadata["messageId"] = messageId.Trim('<', '>');
            }

            if (headers.TryGetValue("to", out var to))
            {
                metadata["to"] = to;
            }

            var document = new Document
            {
                TenantId = tenantId,
                Source = DocumentService.UploadSource,
                ExternalId = "demo:" + fileName,
                Title = title,
                Author = headers.GetValueOrDefault("from"),
                ContentType = headers.Count > 0 ? "text/plain" : "text/markdown",
                ContentHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text))),
                Text = text,
                Status = DocumentStatuses.Pending,
                Metadata = System.Text.Json.JsonSerializer.Serialize(metadata)
            };
            db.Documents.Add(document);
            db.IngestionJobs.Add(new IngestionJob { TenantId = tenantId, DocumentId = document.Id, DocumentVersion = document.Version, Kind = "upsert" });
        }
    }

    /// <summary>Leading "Name: value" mail headers up to the first blank line, and the text after them.</summary>
    private static (Dictionary<string, string> Headers, string Body) MailHeaders(string text)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var i = 0;
        for (; i < lines.Length && lines[i].Length > 0; i++)
        {
            var colon = lines[i].IndexOf(':');
            var field = colon > 0 ? lines[i][..colon].Trim().ToLowerInvariant() : "";
            if (field is not ("from" or "to" or "cc" or "subject" or "message-id" or "date"))
            {
                return ([], text);
            }

            headers[field] = lines[i][(colon + 1)..].Trim();
        }

        return headers.Count > 0 ? (headers, string.Join('\n', lines.Skip(i + 1))) : ([], text);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Resilience.UntilAvailable.RunAsync(SeedAsync, logger, "Demo tenant check", stoppingToken);

    private async Task SeedAsync(CancellationToken stoppingToken)
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
