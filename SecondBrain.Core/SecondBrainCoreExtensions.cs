using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using SecondBrain.Core.Data;
using SecondBrain.Core.Identity;
using SecondBrain.Core.Tenancy;

namespace Microsoft.Extensions.Hosting;

public static class SecondBrainCoreExtensions
{
    /// <summary>What the Api and the Worker share: the database, tenancy, Data Protection and identity services.</summary>
    public static TBuilder AddSecondBrainCore<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);

        services.AddScoped<TenantContext>();
        services.AddScoped<ITenantContext>(sp => sp.GetRequiredService<TenantContext>());

        // Registered by hand (not AddNpgsqlDbContext) because the context takes the scoped tenant context, which a
        // pooled context cannot; Aspire's enrichment still adds health checks, retries and telemetry.
        var connectionString = builder.Configuration.GetConnectionString(SecondBrainDatabase.ConnectionName)
            ?? throw new InvalidOperationException(
                $"ConnectionStrings:{SecondBrainDatabase.ConnectionName} is not set. Start SecondBrain through the AppHost, or set it.");
        // The services run as the application role; only the migrator uses the owner's connection (when there is one).
        services.AddSingleton(new DatabaseConnections(connectionString,
            builder.Configuration.GetConnectionString(DatabaseConnections.OwnerConnectionName) ?? connectionString));
        var dataSource = SecondBrainDatabase.CreateDataSource(connectionString);
        services.AddSingleton(dataSource);
        services.AddDbContext<SecondBrainDbContext>(options => SecondBrainDatabase.Configure(options, dataSource));
        // Our own bounded retry (SecondBrainDatabase) replaces Aspire's, which retries for up to a minute.
        builder.EnrichNpgsqlDbContext<SecondBrainDbContext>(settings => settings.DisableRetry = true);
        services.AddSingleton<DatabaseMigrator>();
        services.AddSingleton<SecondBrain.Core.Work.WorkSignals>();
        services.AddOpenTelemetry()
            .WithTracing(t => t.AddSource(DatabaseMigrator.ActivitySourceName))
            .WithMetrics(m => m.AddMeter(SecondBrain.Core.Resilience.RedisFallback.MeterName));

        // One key ring for every instance, durable in Postgres: what one instance protects, any other can read.
        // ... and encrypted at rest with a secret that is not in that database.
        services.AddOptions<KeyRingEncryptionOptions>().BindConfiguration(KeyRingEncryptionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddDataProtection()
            .SetApplicationName("SecondBrain")
            .PersistKeysToDbContext<SecondBrainDbContext>();
        services.AddOptions<KeyManagementOptions>()
            .Configure<IOptions<KeyRingEncryptionOptions>>((keys, encryption) => keys.XmlEncryptor = new AesGcmXmlEncryptor(encryption.Value));

        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();

        // Mail: the Api writes to the outbox, the Worker sends.
        services.AddScoped<SecondBrain.Core.Mail.MailOutbox>();
        services.AddSingleton<SecondBrain.Core.Mail.SmtpMailSender>();
        services.AddOptions<SecondBrain.Core.Mail.MailOptions>().BindConfiguration(SecondBrain.Core.Mail.MailOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }

    /// <summary>Sign-up, login and tokens: only the Api issues and validates them.</summary>
    public static TBuilder AddSecondBrainIdentity<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LoginThrottleOptions>().BindConfiguration(LoginThrottleOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<OperatorOptions>().BindConfiguration(OperatorOptions.SectionName);
        services.AddSingleton<TokenService>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<AccessTokenRevocations>();
        services.AddScoped<SecondBrain.Core.Auditing.AuditTrail>();
        services.AddScoped<AuthService>();
        services.AddScoped<AccountService>();
        services.AddScoped<ApiKeyService>();
        services.AddScoped<PasswordResetService>();
        services.AddScoped<SignupService>();
        services.AddOptions<SignupOptions>().BindConfiguration(SignupOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }
}
