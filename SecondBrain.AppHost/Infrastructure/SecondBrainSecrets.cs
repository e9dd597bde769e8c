namespace SecondBrain.AppHost.Infrastructure;

/// <summary>
/// Every secret of the stack, as Aspire parameters: generated on first run and kept in the AppHost's user secrets,
/// or supplied as <c>Parameters:&lt;name&gt;</c> (configuration, environment, the deployment's secret store). Never
/// literals, never on a process's command line.
/// </summary>
public sealed record SecondBrainSecrets(
    IResourceBuilder<ParameterResource> PostgresPassword,
    IResourceBuilder<ParameterResource> AppDatabasePassword,
    IResourceBuilder<ParameterResource> RedisPassword,
    IResourceBuilder<ParameterResource> JwtSigningKey,
    IResourceBuilder<ParameterResource> DataProtectionKey);

public static class SecondBrainSecretsExtensions
{
    public static SecondBrainSecrets AddSecondBrainSecrets(this IDistributedApplicationBuilder builder) => new(
        Generated(builder, "postgres-password", 24),
        Generated(builder, "app-db-password", 24),
        Generated(builder, "redis-password", 24),
        Generated(builder, "jwt-signing-key", 48),
        // Encrypts the Data Protection key ring at rest; kept out of the database that stores the ring.
        Generated(builder, "dataprotection-key", 48));

    private static IResourceBuilder<ParameterResource> Generated(IDistributedApplicationBuilder builder, string name, int length) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = length, Special = false }, secret: true, persist: true);
}
