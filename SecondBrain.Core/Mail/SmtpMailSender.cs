using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using MimeKit;

namespace SecondBrain.Core.Mail;

/// <summary>Sends one mail over SMTP with MailKit, to the server the <c>smtp</c> connection string names.</summary>
public sealed class SmtpMailSender(IConfiguration configuration, IOptions<MailOptions> options)
{
    public bool IsConfigured => !string.IsNullOrWhiteSpace(configuration.GetConnectionString("smtp"));

    public async Task SendAsync(string to, string subject, string body, CancellationToken ct)
    {
        var server = new Uri(configuration.GetConnectionString("smtp")
            ?? throw new InvalidOperationException("No mail server is configured (ConnectionStrings:smtp)."));
        var o = options.Value;
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(o.FromName, o.FromAddress));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = body };

        using var client = new SmtpClient { Timeout = (int)o.SendTimeout.TotalMilliseconds };
        var security = server.Scheme == "smtps" ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTlsWhenAvailable;
        await client.ConnectAsync(server.Host, server.IsDefaultPort ? (server.Scheme == "smtps" ? 465 : 25) : server.Port, security, ct);
        if (server.UserInfo is { Length: > 0 } userInfo)
        {
            var parts = userInfo.Split(':', 2);
            await client.AuthenticateAsync(Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "", ct);
        }

        await client.SendAsync(message, ct);
        await client.DisconnectAsync(quit: true, ct);
    }
}
