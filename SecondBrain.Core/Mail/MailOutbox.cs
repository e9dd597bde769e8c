using Microsoft.AspNetCore.DataProtection;
using SecondBrain.Core.Data;

namespace SecondBrain.Core.Mail;

/// <summary>Puts a mail in the outbox of the current unit of work; the caller's SaveChanges commits it with what it announces.</summary>
public sealed class MailOutbox(SecondBrainDbContext db, IDataProtectionProvider protection)
{
    public const string ProtectionPurpose = "SecondBrain.Mail.Body";

    public void Add(Guid tenantId, string to, string subject, string body) =>
        db.OutgoingMail.Add(new OutgoingMail
        {
            TenantId = tenantId,
            ToAddress = to,
            Subject = subject,
            ProtectedBody = protection.CreateProtector(ProtectionPurpose).Protect(body)
        });
}
