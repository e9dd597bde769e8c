using System.Diagnostics;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.Data;
using SecondBrain.Core.Mail;
using SecondBrain.Core.Resilience;
using SecondBrain.Core.Tenancy;
using SecondBrain.Core.Work;
using SecondBrain.Worker.Work;

namespace SecondBrain.Worker.Processors;

public sealed record MailItem(Guid Key, Guid TenantId, string To, string Subject, string ProtectedBody, int Attempts) : ILeasedItem<Guid>;

/// <summary>
/// The mail outbox. A mail server that cannot be reached is infrastructure: the mail goes back without counting an
/// attempt and waits for it. A server that refuses the mail (a 5xx for the address, say) counts an attempt, and
/// after the last the mail ends failed with the server's answer. Marking a mail sent is fenced by the lease, so a
/// worker that lost its claim does not mark it; at worst a mail whose send succeeded just as the lease was lost is
/// sent twice, never lost.
/// </summary>
public sealed class MailQueue(IServiceScopeFactory scopes, SmtpMailSender sender, IDataProtectionProvider protection,
    IOptions<MailOptions> options, ILogger<MailQueue> logger) : LeasedQueue<MailItem, Guid>
{
    public const string ActivitySourceName = "SecondBrain.Mail";

    private static readonly ActivitySource Source = new(ActivitySourceName);

    public override string Name => WorkQueues.Mail;

    public override LeaseTable Table { get; } = new("mail_outbox", "id", ErrorColumn: "error");

    public override LeasedWorkOptions Options { get; } = new()
    {
        LeaseDuration = options.Value.LeaseDuration,
        RenewInterval = options.Value.RenewInterval,
        PollInterval = options.Value.PollInterval,
        MaxAttempts = options.Value.MaxAttempts,
        RetryBackoff = options.Value.RetryBackoff,
        BatchSize = 10
    };

    public override ActivitySource ActivitySource => Source;

    public override async Task<IReadOnlyList<MailItem>> ClaimAsync(NpgsqlConnection connection, Lease lease, CancellationToken ct)
    {
        if (!sender.IsConfigured)
        {
            return [];
        }

        await using var command = ClaimCommand(connection, lease, """
            UPDATE mail_outbox
               SET status = 'running', lease_owner = @owner, lease_token = @token, lease_expires_at = now() + @lease, attempts = attempts + 1
             WHERE id IN (SELECT id FROM mail_outbox
                           WHERE (status = 'queued' AND (not_before IS NULL OR not_before <= now()))
                              OR (status = 'running' AND lease_expires_at < now())
                           ORDER BY queued_at
                           FOR UPDATE SKIP LOCKED
                           LIMIT @batch)
            RETURNING id, tenant_id, to_address, subject, protected_body, attempts
            """);
        var items = new List<MailItem>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            items.Add(new MailItem(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5)));
        }

        return items;
    }

    public override async Task ProcessAsync(WorkBatch<MailItem, Guid> batch, CancellationToken ct)
    {
        var protector = protection.CreateProtector(MailOutbox.ProtectionPurpose);
        foreach (var item in batch.Pending)
        {
            if (batch.IsLost(item))
            {
                continue;
            }

            using var activity = Source.StartActivity("send mail");
            activity?.SetTag("mail.id", item.Key);
            try
            {
                await sender.SendAsync(item.To, item.Subject, protector.Unprotect(item.ProtectedBody), ct);
            }
            catch (Exception ex) when (ex is SocketException or TimeoutException or ServiceNotConnectedException or SmtpProtocolException
                                       || ex is IOException && !ct.IsCancellationRequested)
            {
                logger.LogWarning("Mail server unreachable ({Message}); mail {MailId} waits for it", ex.Message, item.Key);
                await batch.ReleaseAsync(item, TimeSpan.FromSeconds(30), ct);
                continue;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !DependencyFailures.IsInfrastructure(ex))
            {
                logger.LogWarning(ex, "Mail {MailId} was refused (attempt {Attempt})", item.Key, item.Attempts);
                await batch.RetryLaterAsync(item, ex, ct);
                continue;
            }

            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(item.TenantId, null);
            var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
            var marked = await db.OutgoingMail
                .Where(m => m.Id == item.Key && m.LeaseToken == batch.Lease.Token && m.Status == OutgoingMailStatuses.Running)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(m => m.Status, OutgoingMailStatuses.Sent)
                    .SetProperty(m => m.SentAt, DateTimeOffset.UtcNow)
                    .SetProperty(m => m.Error, (string?)null)
                    .SetProperty(m => m.LeaseOwner, (string?)null)
                    .SetProperty(m => m.LeaseToken, (Guid?)null), ct);
            if (marked == 0)
            {
                logger.LogWarning("Mail {MailId} was sent after its lease was lost; not marking it", item.Key);
            }

            batch.Complete(item);
        }
    }

    public override async Task GiveUpAsync(WorkBatch<MailItem, Guid> batch, MailItem item, string reason, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(item.TenantId, null);
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        await db.OutgoingMail
            .Where(m => m.Id == item.Key && m.LeaseToken == batch.Lease.Token && m.Status == OutgoingMailStatuses.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, OutgoingMailStatuses.Failed)
                .SetProperty(m => m.Error, reason)
                .SetProperty(m => m.LeaseOwner, (string?)null)
                .SetProperty(m => m.LeaseToken, (Guid?)null), ct);
    }
}
