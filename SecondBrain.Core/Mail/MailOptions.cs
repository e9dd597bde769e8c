using System.ComponentModel.DataAnnotations;

namespace SecondBrain.Core.Mail;

/// <summary>Outgoing mail. The server is the <c>smtp</c> connection string (<c>smtp://host:port</c>, <c>smtps://</c> for TLS, optional user:password@).</summary>
public sealed class MailOptions
{
    public const string SectionName = "Mail";

    [Required, EmailAddress]
    public string FromAddress { get; set; } = "no-reply@secondbrain.local";

    public string FromName { get; set; } = "SecondBrain";

    /// <summary>Where links in mails point (the front end); the reset page is <c>{FrontendUrl}/reset-password?token=...</c>.</summary>
    [Required, Url]
    public string FrontendUrl { get; set; } = "http://localhost:5000";

    [Range(typeof(TimeSpan), "00:00:02", "00:10:00")]
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(15);

    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(15);

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 8;

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(10);
}
