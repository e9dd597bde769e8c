namespace SecondBrain.Core.Identity;

public sealed class Tenant
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string Name { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// Bumped in the same transaction as every change to what the tenant can find (indexed or removed chunks,
    /// glossary), so an answer cached under an older version is never served, whatever Redis lost.
    /// </summary>
    public long CorpusVersion { get; set; }
}
