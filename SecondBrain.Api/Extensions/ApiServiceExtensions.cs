using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;
using SecondBrain.Api.Infrastructure;
using SecondBrain.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

internal static class ApiServiceExtensions
{
    public const string InstanceHeader = "X-SecondBrain-Instance";

    public static WebApplicationBuilder AddApiServices(this WebApplicationBuilder builder)
    {
        builder.AddSecondBrainCore();
        builder.AddSecondBrainIdentity();
        builder.AddSecondBrainSync();
        builder.AddSecondBrainSearch();
        builder.AddSecondBrainKnowledge();
        builder.AddSecondBrainConversations();
        builder.Services.AddOptions<SseOptions>().BindConfiguration(SseOptions.SectionName);

        builder.Services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<ApiOptions>>((kestrel, api) => kestrel.Limits.MaxRequestBodySize = api.Value.MaxRequestBodyBytes);

        builder.Services.AddSecondBrainProblemDetails();
        builder.Services.AddSecondBrainAuthentication();
        builder.Services.AddSecondBrainRateLimiting();
        builder.Services.AddOpenApi(options => options.AddDocumentTransformer<BearerSecuritySchemeTransformer>());
        return builder;
    }

    public static WebApplication UseApiPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        // Tells a caller (and the tests) which replica answered.
        var instanceId = app.Services.GetRequiredService<InstanceIdentity>().InstanceId;
        app.Use((context, next) =>
        {
            context.Response.Headers[InstanceHeader] = instanceId;
            return next(context);
        });

        app.UseAuthentication();
        app.UseApiKeyScopes();
        app.UseAuthorization();
        app.UseRateLimiter();

        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference("/scalar").AllowAnonymous();
        return app;
    }
}
