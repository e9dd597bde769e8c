namespace SecondBrain.Core.Sync;

/// <summary>The sources a sync run can read. Stored as these strings.</summary>
public static class Sources
{
    public const string Gmail = "gmail";
    public const string Slack = "slack";
    public const string Box = "box";
    public const string EmailArchive = "email-archive";
    public const string SlackExport = "slack-export";

    /// <summary>Sources reached over OAuth (the provider names in the integrations API).</summary>
    public static readonly IReadOnlyList<string> OAuthProviders = [Gmail, Slack, Box];

    public static readonly IReadOnlyList<string> Imports = [EmailArchive, SlackExport];

    public static bool IsOAuthProvider(string source) => OAuthProviders.Contains(source);

    public static bool IsImport(string source) => Imports.Contains(source);
}

/// <summary>
/// One item read from a source: an e-mail, a Slack message (with its thread), a Box file. Either
/// <see cref="Text"/> or <see cref="Content"/> carries the body; parsing to text is ingestion's job.
/// </summary>
public sealed record SourceItem(
    string ExternalId,
    string Title,
    string? Author,
    DateTimeOffset? CreatedAt,
    string ContentType,
    string? Text,
    byte[]? Content,
    IReadOnlyDictionary<string, string> Metadata,
    bool Deleted = false);

/// <summary>An item that could not be read; recorded with its reason while the run goes on.</summary>
public sealed record SourceItemFailure(string ExternalId, string Reason);

/// <summary>
/// One page of a source. <see cref="NextCursor"/> is checkpointed after the page is stored, so a run resumed by
/// another worker continues after it; null means the source is exhausted. <see cref="SyncState"/>, given with the
/// last page, is what the next (incremental) run starts from, e.g. a Gmail historyId.
/// </summary>
public sealed record SourcePage(
    IReadOnlyList<SourceItem> Items,
    IReadOnlyList<SourceItemFailure> Failures,
    string? NextCursor,
    long? EstimatedTotal = null,
    string? SyncState = null,
    string? Stage = null);

/// <summary>What a reader gets for one page: the run, its connection or upload, and the previous sync state.</summary>
public sealed record SourceReadContext(
    Guid TenantId,
    Guid RunId,
    Guid? ConnectionId,
    Guid? UploadId,
    string? PreviousSyncState);

/// <summary>Reads a source page by page. Implementations are stateless; everything they need is in the cursor.</summary>
public interface ISourceReader
{
    string Source { get; }

    Task<SourcePage> ReadPageAsync(SourceReadContext context, string? cursor, CancellationToken cancellationToken);
}

/// <summary>The provider refused the stored credentials (revoked, expired refresh token): the user must reconnect.</summary>
public sealed class ReauthRequiredException(string reason, Exception? inner = null) : Exception(reason, inner);

/// <summary>An archive or export that cannot be read at all (not a zip, no messages...): the run fails with this reason.</summary>
public sealed class InvalidSourceException(string reason, Exception? inner = null) : Exception(reason, inner);
