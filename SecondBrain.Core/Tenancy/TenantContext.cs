namespace SecondBrain.Core.Tenancy;

/// <summary>
/// The tenant (and user) a unit of work acts for: set once per request from the access token, or once per job
/// by the worker. Scoped, so it never outlives the request or job.
/// </summary>
public interface ITenantContext
{
    Guid? TenantId { get; }
    Guid? UserId { get; }
    bool HasTenant => TenantId is not null;
}

public sealed class TenantContext : ITenantContext
{
    public Guid? TenantId { get; private set; }
    public Guid? UserId { get; private set; }

    public void Set(Guid tenantId, Guid? userId)
    {
        if (TenantId is { } current && current != tenantId)
        {
            throw new InvalidOperationException("The tenant of a unit of work cannot change once set.");
        }

        TenantId = tenantId;
        UserId = userId;
    }
}
