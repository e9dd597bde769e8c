using System.ComponentModel.DataAnnotations;
using System.Data.Common;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>
/// The Azure Document Intelligence resource named by <c>ConnectionStrings:documentintelligence</c>:
/// <c>Endpoint=https://...;Key=...</c>, optionally with <c>Model=prebuilt-read</c> (default <c>prebuilt-layout</c>).
/// Any endpoint works, so a stand-in server can take Azure's place in tests.
/// </summary>
public sealed record DocumentIntelligenceConnection(Uri Endpoint, string Key, string Model)
{
    public const string ConnectionName = "documentintelligence";

    /// <summary>Layout rather than read: it marks titles, section headings and page furniture, which become structure.</summary>
    public const string DefaultModel = "prebuilt-layout";

    /// <summary>The parsed connection, or null when the string is missing or lacks an endpoint or a key.</summary>
    public static DocumentIntelligenceConnection? TryParse(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return null;
        }

        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        string? Get(string name) => builder.TryGetValue(name, out var value) && value?.ToString() is { Length: > 0 } text ? text.Trim() : null;

        if (Get("Endpoint") is not { } endpointText || !Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || Get("Key") is not { } key)
        {
            return null;
        }

        return new DocumentIntelligenceConnection(endpoint, key, Get("Model") ?? DefaultModel);
    }

    /// <summary>The key stays out of logs and exception messages that print the connection.</summary>
    public override string ToString() => $"DocumentIntelligenceConnection {{ Endpoint = {Endpoint}, Model = {Model} }}";
}

/// <summary>How the Document Intelligence client waits: <c>Ingestion:DocumentIntelligence</c>.</summary>
public sealed class DocumentIntelligenceOptions
{
    public const string SectionName = "Ingestion:DocumentIntelligence";

    /// <summary>Wait between polls of a running analysis when the service sends no <c>Retry-After</c>.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Tries per request when the service throttles (429), fails transiently (5xx) or cannot be reached.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 4;

    /// <summary>First backoff between tries when the service sends no <c>Retry-After</c>; doubles per try.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);
}
