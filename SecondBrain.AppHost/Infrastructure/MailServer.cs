using Microsoft.Extensions.Configuration;

namespace SecondBrain.AppHost.Infrastructure;

/// <summary>
/// Where the services send mail (password resets): the <c>smtp</c> connection string when the deployment gives one;
/// otherwise smtp4dev, a development mail server whose web UI (linked from the dashboard) shows every mail sent, so
/// a newcomer can read their reset link. A container in container mode; in local mode the smtp4dev .NET tool
/// (<c>eng/prerequisites.sh</c> installs it). Without either, mail waits in the outbox (nothing is lost).
/// </summary>
internal static class MailServer
{
    private const string Image = "rnwood/smtp4dev";
    private const string Tag = "3.15.0";

    public static IResourceBuilder<IResourceWithConnectionString>? AddMailServer(this IDistributedApplicationBuilder builder, AppHostSettings settings)
    {
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("smtp")))
        {
            return builder.AddConnectionString("smtp");
        }

        EndpointReference smtp;
        if (settings.Infra == InfraMode.Container)
        {
            var container = builder.AddContainer("smtp4dev", Image, Tag)
                .WithHttpEndpoint(targetPort: 80, name: "http")
                .WithEndpoint(targetPort: 25, name: "smtp", scheme: "tcp")
                .WithEnvironment("ServerOptions__Database", "")
                .WithEnvironment("ServerOptions__ImapPort", "0")
                .WithEnvironment("ServerOptions__Pop3Port", "0");
            smtp = container.GetEndpoint("smtp");
        }
        else
        {
            var tool = FindTool();
            if (tool is null)
            {
                Console.Error.WriteLine("warning: smtp4dev not found (dotnet tool install -g Rnwood.Smtp4dev); mail waits in the outbox until ConnectionStrings:smtp names a server.");
                return null;
            }

            var executable = builder.AddExecutable("smtp4dev", tool, settings.DataDirectory)
                .WithHttpEndpoint(name: "http")
                .WithEndpoint(name: "smtp", scheme: "tcp")
                .WithArgs(context =>
                {
                    var resource = (ExecutableResource)context.Resource;
                    context.Args.Add(ReferenceExpression.Create($"--urls=http://127.0.0.1:{resource.GetEndpoint("http").Property(EndpointProperty.TargetPort)}"));
                    context.Args.Add(ReferenceExpression.Create($"--smtpport={resource.GetEndpoint("smtp").Property(EndpointProperty.TargetPort)}"));
                    context.Args.Add("--imapport=0");
                    context.Args.Add("--pop3port=0");
                    context.Args.Add("--db=");
                });
            smtp = executable.GetEndpoint("smtp");
        }

        return builder.AddConnectionString("smtp", ReferenceExpression.Create(
            $"smtp://{smtp.Property(EndpointProperty.Host)}:{smtp.Property(EndpointProperty.Port)}"));
    }

    private static string? FindTool()
    {
        var home = Environment.GetEnvironmentVariable("HOME") ?? "";
        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(Path.Combine(home, ".dotnet", "tools"))
            .Select(dir => Path.Combine(dir, "smtp4dev"))
            .FirstOrDefault(File.Exists);
    }
}
