namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// One kind of knowledge gap. <see cref="TenantAnalyzer"/> runs every registered detector in turn over the run's
/// <see cref="AnalysisQueries"/>; each returns its candidates (bounded by the cap) and, for tenant-wide types, the SQL
/// that lists the keys it re-evaluated, so the analyzer can resolve the open gaps of those keys it no longer finds.
/// </summary>
public interface IGapDetector
{
    /// <summary>The gap type (<see cref="GapTypes"/>) this detector reports.</summary>
    string Type { get; }

    /// <summary>Whether the analyzer adds the entities the evidence names by alias (not for gaps that name their own subject).</summary>
    bool LinksEntities => true;

    Task<DetectorOutcome> DetectAsync(AnalysisQueries q, CancellationToken ct);
}

/// <param name="ScopeSql">
/// Null for per-document types (an open gap citing a changed document that was not found again is resolved);
/// else a query over the "changed" CTE returning a <c>key</c> column: the keys re-evaluated this run.
/// </param>
public sealed record DetectorOutcome(DetectorResult Result, string? ScopeSql);
