using System.Diagnostics;

namespace SecondBrain.Core.Knowledge;

/// <summary>The knowledge engine's telemetry, registered with the capability (AddSecondBrainKnowledge).</summary>
public static class KnowledgeTelemetry
{
    public const string ExtractionName = "SecondBrain.Knowledge.Extraction";
    public const string AnalysisName = "SecondBrain.Knowledge.Analysis";

    public static readonly ActivitySource Extraction = new(ExtractionName);
    public static readonly ActivitySource Analysis = new(AnalysisName);
}
