namespace SecondBrain.Core.Data;

/// <summary>
/// One instance's pass through the start-up migration step: which migrations it applied (usually none, because
/// another instance holding the lock already did). Not tenant data.
/// </summary>
public sealed class MigrationRun
{
    public long Id { get; set; }
    public required string InstanceId { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset FinishedAt { get; set; }
    public List<string> AppliedMigrations { get; set; } = [];
}
