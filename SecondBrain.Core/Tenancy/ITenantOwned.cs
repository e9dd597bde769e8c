namespace SecondBrain.Core.Tenancy;

/// <summary>
/// Marks a row that belongs to one tenant. <see cref="Data.SecondBrainDbContext"/> filters every query on such
/// rows by the current tenant and refuses writes into another tenant; no query has to remember to.
/// </summary>
public interface ITenantOwned
{
    Guid TenantId { get; set; }
}
