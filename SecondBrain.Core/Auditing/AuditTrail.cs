using System.Text.Json;
using SecondBrain.Core.Data;
using SecondBrain.ServiceDefaults.Telemetry;

namespace SecondBrain.Core.Auditing;

/// <summary>
/// Adds audit entries to the current unit of work, so an entry commits with the change it records (or not at all).
/// The one way identity and account services write the trail.
/// </summary>
public sealed class AuditTrail(SecondBrainDbContext db, InstanceIdentity instance, TimeProvider time)
{
    public void Add(Guid tenantId, Guid? actor, string action, string? target, object? detail = null) =>
        db.AuditLog.Add(new AuditEntry
        {
            TenantId = tenantId,
            ActorUserId = actor,
            Action = action,
            Target = target,
            Detail = detail is null ? null : JsonSerializer.Serialize(detail),
            InstanceId = instance.InstanceId,
            At = time.GetUtcNow()
        });
}
