using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SecondBrain.AppHost.Infrastructure;

internal static class DemoCredentials
{
    public const string Email = "demo@secondbrain.local";

    public const string OperatorEmail = "operator@secondbrain.local";

    /// <summary>Prints the operator sign-in (fleet-wide endpoints such as /api/admin/instances) once the Api is up.</summary>
    public static void PrintOperatorWhenReady(IDistributedApplicationBuilder builder, string email, IResourceBuilder<ParameterResource> password) =>
        builder.Eventing.Subscribe<AfterResourcesCreatedEvent>(async (e, ct) =>
        {
            var logger = e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SecondBrain.Operator");
            var value = await password.Resource.GetValueAsync(ct);
            logger.LogInformation(
                "Operator: sign in with POST /api/auth/login {{\"email\":\"{Email}\",\"password\":\"{Password}\"}} to see every instance (GET /api/admin/instances)",
                email, value);
        });

    /// <summary>Prints the demo sign-in to the AppHost's console once the Api is up.</summary>
    public static void PrintWhenReady(IDistributedApplicationBuilder builder, IResourceBuilder<ParameterResource> password) =>
        builder.Eventing.Subscribe<AfterResourcesCreatedEvent>(async (e, ct) =>
        {
            var logger = e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SecondBrain.Demo");
            var value = await password.Resource.GetValueAsync(ct);
            logger.LogInformation(
                "Demo tenant: sign in with POST /api/auth/login {{\"email\":\"{Email}\",\"password\":\"{Password}\"}} (API browser at /scalar on any api replica)",
                Email, value);
        });
}
