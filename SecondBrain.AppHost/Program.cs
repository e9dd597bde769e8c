using Microsoft.Extensions.Configuration;
using SecondBrain.AppHost.Infrastructure;

IDistributedApplicationBuilder builder;
AppHostSettings settings;
try
{
    builder = DistributedApplication.CreateBuilder(args);
    settings = AppHostSettings.Read(builder.Configuration, builder.AppHostDirectory);
    StartupChecks.Run(builder.Configuration, settings);
}
catch (Exception ex) when (ex is StartupException or InvalidOperationException or DistributedApplicationException)
{
    // One line a person can act on; the stack trace of a configuration mistake helps nobody.
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

var secrets = builder.AddSecondBrainSecrets();
var providerSecrets = builder.AddProviderSecrets("Gmail", "Slack", "Box");

SecondBrainInfrastructure infrastructure;
try
{
    infrastructure = settings.Infra switch
    {
        InfraMode.Container => builder.AddContainerInfrastructure(secrets),
        InfraMode.Local => builder.AddLocalInfrastructure(secrets, settings.DataDirectory),
        _ => throw new InvalidOperationException($"Unsupported infrastructure mode {settings.Infra}.")
    };
}
catch (DistributedApplicationException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

var api = builder.AddProject<Projects.SecondBrain_Api>("api")
    .WithReplicas(settings.ApiReplicas)
    .WithSecondBrainInfrastructure(infrastructure)
    .WithEnvironment("Jwt__SigningKey", secrets.JwtSigningKey)
    .WithEnvironment("DataProtection__KeyEncryptionKey", secrets.DataProtectionKey)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

var worker = builder.AddProject<Projects.SecondBrain_Worker>("worker")
    .WithReplicas(settings.WorkerReplicas)
    .WithSecondBrainInfrastructure(infrastructure)
    .WithEnvironment("DataProtection__KeyEncryptionKey", secrets.DataProtectionKey)
    // glibc gives each thread that mallocs its own arena (up to 8 per core) and rarely returns their free space: the
    // embedding model's buffers, freed after each run, would otherwise stay resident in a dozen arenas.
    .WithEnvironment("MALLOC_ARENA_MAX", "2")
    .WithHttpHealthCheck("/health");

// The fleet's operator (sees every instance; no tenant can grant this): named by OperatorEmail, its password a
// generated secret parameter the Worker uses to create the account once.
var operatorEmail = builder.Configuration["OperatorEmail"] is { Length: > 0 } configuredOperator ? configuredOperator : DemoCredentials.OperatorEmail;
var operatorPassword = builder.AddParameter("operator-password",
    new GenerateParameterDefault { MinLength = 16, Special = false }, secret: true, persist: true);
api.WithEnvironment("Operators__Accounts__0__Email", operatorEmail);
worker.WithEnvironment("Operators__Accounts__0__Email", operatorEmail).WithEnvironment("Operators__Accounts__0__Password", operatorPassword);
DemoCredentials.PrintOperatorWhenReady(builder, operatorEmail, operatorPassword);

if (settings.Demo)
{
    var demoPassword = builder.AddParameter("demo-password",
        new GenerateParameterDefault { MinLength = 12, Special = false }, secret: true, persist: true);
    worker.WithEnvironment("Demo__Enabled", "true").WithEnvironment("Demo__AdminPassword", demoPassword);
    DemoCredentials.PrintWhenReady(builder, demoPassword);
}

// Provider settings (client ids and secrets, endpoints, redirect URIs, the front-end URL) reach both services
// under the same names, from the AppHost's configuration or user secrets.
api.WithConfigurationSection(builder.Configuration, "Integrations").WithProviderSecrets(providerSecrets);
worker.WithConfigurationSection(builder.Configuration, "Integrations").WithProviderSecrets(providerSecrets);
foreach (var section in new[] { "Sync", "Ingestion", "Embeddings", "VectorIndex", "Knowledge", "Identity", "RateLimits", "Mail" })
{
    api.WithConfigurationSection(builder.Configuration, section);
    worker.WithConfigurationSection(builder.Configuration, section);
}

// Optional: a model endpoint (Azure OpenAI or any OpenAI-compatible server) for answers, follow-up rewriting, gap
// verification and, when it names one, embeddings; or a local model server the AppHost starts (--LocalModel ollama).
// Without either, the embedded model and extractive answers are used.
IResourceBuilder<IResourceWithConnectionString>? openai;
try
{
    openai = builder.AddLocalModelServer(settings);
}
catch (StartupException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

if (openai is null && !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("openai")))
{
    openai = builder.AddConnectionString("openai");
}

if (openai is not null)
{
    api.WithReference(openai);
    worker.WithReference(openai);
}

// Mail (password resets): the deployment's server, or smtp4dev whose web UI shows what was sent.
if (builder.AddMailServer(settings) is { } smtp)
{
    api.WithReference(smtp);
    worker.WithReference(smtp);
}

// Optional: Azure Document Intelligence (OCR) for scanned PDFs and images. Without it they fail with a reason.
if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("documentintelligence")))
{
    var documentIntelligence = builder.AddConnectionString("documentintelligence");
    api.WithReference(documentIntelligence);
    worker.WithReference(documentIntelligence);
}

try
{
    builder.Build().Run();
}
catch (DistributedApplicationException ex)
{
    // Raised while starting (e.g. initdb or the postgres password sync failed): the message names the step.
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

return 0;
