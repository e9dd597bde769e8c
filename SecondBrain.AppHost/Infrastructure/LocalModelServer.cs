using Microsoft.Extensions.Configuration;

namespace SecondBrain.AppHost.Infrastructure;

/// <summary>
/// The opt-in local model server (<c>--LocalModel ollama</c>): Ollama, which speaks the OpenAI chat-completions API,
/// started as a container in container mode or as the <c>ollama</c> executable in local mode, and wired into the
/// services as the <c>openai</c> connection (chat only: embeddings stay on the embedded model, so switching the model
/// server on or off never invalidates the vector index). The model is pulled when the server starts; the first start
/// downloads it (a few GB), later ones find it in the volume or the data directory.
/// </summary>
internal static class LocalModelServer
{
    // Pinned so a model volume is never opened by a surprise version.
    private const string OllamaImage = "ollama/ollama";
    private const string OllamaTag = "0.12.6";
    private const int OllamaPort = 11434;

    // Serve, pull the chat model once the server answers, then stay in the foreground with the server.
    private const string ServeAndPull =
        "ollama serve & server=$!; " +
        "until ollama list >/dev/null 2>&1; do sleep 1; done; " +
        "ollama pull \"$SECONDBRAIN_CHAT_MODEL\" || echo \"pulling $SECONDBRAIN_CHAT_MODEL failed\" >&2; " +
        "wait $server";

    public static IResourceBuilder<IResourceWithConnectionString>? AddLocalModelServer(
        this IDistributedApplicationBuilder builder, AppHostSettings settings)
    {
        if (settings.LocalModel == LocalModelKind.None)
        {
            return null;
        }

        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("openai")))
        {
            throw new StartupException("--LocalModel ollama and ConnectionStrings:openai both name a model endpoint; keep one.");
        }

        EndpointReference endpoint;
        if (settings.Infra == InfraMode.Container)
        {
            var container = builder.AddContainer("ollama", OllamaImage, OllamaTag)
                .WithHttpEndpoint(targetPort: OllamaPort, name: "http")
                .WithVolume("secondbrain-ollama", "/root/.ollama")
                .WithEnvironment("SECONDBRAIN_CHAT_MODEL", settings.LocalModelChat)
                .WithEntrypoint("/bin/sh")
                .WithArgs("-c", ServeAndPull)
                .WithHttpHealthCheck("/api/tags", endpointName: "http");
            endpoint = container.GetEndpoint("http");
        }
        else
        {
            var ollama = FindOnPath("ollama") ?? throw new StartupException(
                "--LocalModel ollama in local mode needs the 'ollama' binary on the PATH (https://ollama.com/download), " +
                "or run with --Infra container where Docker or Podman is available.");
            var models = Directory.CreateDirectory(Path.Combine(settings.DataDirectory, "ollama")).FullName;
            var executable = builder.AddExecutable("ollama", "/bin/sh", settings.DataDirectory, "-c", ServeAndPull.Replace("ollama ", $"\"{ollama}\" ", StringComparison.Ordinal))
                .WithHttpEndpoint(name: "http", env: "SECONDBRAIN_OLLAMA_PORT")
                .WithEnvironment(context =>
                {
                    var port = ((ExecutableResource)context.Resource).GetEndpoint("http").Property(EndpointProperty.TargetPort);
                    context.EnvironmentVariables["OLLAMA_HOST"] = ReferenceExpression.Create($"127.0.0.1:{port}");
                })
                .WithEnvironment("OLLAMA_MODELS", models)
                .WithEnvironment("SECONDBRAIN_CHAT_MODEL", settings.LocalModelChat)
                .WithHttpHealthCheck("/api/tags", endpointName: "http");
            endpoint = executable.GetEndpoint("http");
        }

        return builder.AddConnectionString("openai", ReferenceExpression.Create(
            $"Endpoint={endpoint.Property(EndpointProperty.Url)}/v1;Key=ollama;Provider=openai;ChatModel={settings.LocalModelChat}"));
    }

    private static string? FindOnPath(string binary) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, binary))
            .FirstOrDefault(File.Exists);
}
