using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<SecondBrainDbContext>
{
    public SecondBrainDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<SecondBrainDbContext>();
        SecondBrainDatabase.Configure(options, "Host=localhost;Database=secondbrain;Username=postgres");
        return new SecondBrainDbContext(options.Options, new TenantContext());
    }
}
