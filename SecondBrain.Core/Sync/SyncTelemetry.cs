using System.Diagnostics;

namespace SecondBrain.Core.Sync;

/// <summary>Sync runs' telemetry, registered with the capability (AddSecondBrainSync).</summary>
public static class SyncTelemetry
{
    public const string Name = "SecondBrain.Sync";

    public static readonly ActivitySource ActivitySource = new(Name);
}
