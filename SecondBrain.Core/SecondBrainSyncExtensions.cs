using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using OpenTelemetry.Trace;
using SecondBrain.Core.Integrations;
using SecondBrain.Core.Integrations.Box;
using SecondBrain.Core.Integrations.Email;
using SecondBrain.Core.Integrations.Gmail;
using SecondBrain.Core.Integrations.Slack;
using SecondBrain.Core.Sync;

namespace Microsoft.Extensions.Hosting;

public static class SecondBrainSyncExtensions
{
    /// <summary>Connectors, OAuth, sync runs and live progress: shared by the Api (start, read, cancel) and the Worker (execute).</summary>
    public static TBuilder AddSecondBrainSync<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddOptions<IntegrationsOptions>().BindConfiguration(IntegrationsOptions.SectionName)
            .Validate(o => Uri.TryCreate(o.FrontendUrl, UriKind.Absolute, out _), "Integrations:FrontendUrl must be an absolute URL.")
            .ValidateOnStart();
        services.AddOptions<SyncOptions>().BindConfiguration(SyncOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.LeaseDuration > o.HeartbeatInterval * 3, "Sync:LeaseDuration must be at least three heartbeats long.")
            .ValidateOnStart();

        services.AddSingleton<OAuthStateStore>();
        services.AddSingleton<ProviderTokenProtector>();
        services.AddSingleton<SyncProgress>();
        services.AddOpenTelemetry().WithTracing(t => t.AddSource(SyncTelemetry.Name));
        services.AddScoped<IConnectionTokenSource, ConnectionTokenSource>();
        services.AddScoped<IntegrationService>();
        services.AddScoped<SyncRunService>();
        services.AddScoped<IUploadStore, UploadStore>();
        services.AddScoped<SyncPageWriter>();

        // Provider clients ride out rate limiting: more and longer retries than the default, honouring Retry-After.
        // RemoveAllResilienceHandlers is marked experimental; it is the documented way to replace the default
        // handler that ServiceDefaults adds to every client.
#pragma warning disable EXTEXP0001
        foreach (var provider in Sources.OAuthProviders)
        {
            services.AddHttpClient(provider)
                .RemoveAllResilienceHandlers()
                .AddStandardResilienceHandler(o =>
                {
                    o.Retry.MaxRetryAttempts = 8;
                    o.Retry.Delay = TimeSpan.FromMilliseconds(500);
                    o.Retry.UseJitter = true;
                    o.Retry.ShouldRetryAfterHeader = true;
                    o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(30);
                    o.TotalRequestTimeout.Timeout = TimeSpan.FromMinutes(3);
                    o.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(1);
                    o.CircuitBreaker.FailureRatio = 0.9;
                });
        }
#pragma warning restore EXTEXP0001

        // Token endpoints get no retries at all: an authorization code, and a Box refresh token, work once, so a
        // retried request could spend one twice and lose the grant. A short timeout reports an unreachable
        // endpoint within seconds instead of after a minute of retries.
        foreach (var provider in Sources.OAuthProviders)
        {
#pragma warning disable EXTEXP0001
            services.AddHttpClient(ProviderTokenClients.Name(provider), client => client.Timeout = ProviderTokenClients.Timeout)
                .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        }

        services.AddScoped<IOAuthProvider, GmailOAuthProvider>();
        services.AddScoped<IOAuthProvider, SlackOAuthProvider>();
        services.AddScoped<IOAuthProvider, BoxOAuthProvider>();
        services.AddScoped<ISourceReader, GmailReader>();
        services.AddScoped<ISourceReader, SlackReader>();
        services.AddScoped<ISourceReader, BoxReader>();
        services.AddScoped<ISourceReader, EmailArchiveReader>();
        services.AddScoped<ISourceReader, SlackExportReader>();
        return builder;
    }
}
