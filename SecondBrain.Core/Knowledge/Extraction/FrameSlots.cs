using System.Collections.Frozen;

namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>
/// The slot names of each frame type and which of them a frame should have. A required slot that nothing fills is
/// listed in <see cref="Frame.MissingSlots"/>: that is what gap detection looks for ("a decision with no rationale",
/// "a process with no owner", "a problem nobody owns").
/// </summary>
public static class FrameSlots
{
    public const string Agent = "agent";
    public const string Object = "object";
    public const string Rationale = "rationale";
    public const string Time = "time";
    public const string Owner = "owner";
    public const string Frequency = "frequency";
    public const string Steps = "steps";
    public const string Place = "place";
    public const string Limit = "limit";
    public const string Term = "term";
    public const string Definition = "definition";
    public const string Metric = "metric";
    public const string Value = "value";
    public const string Unit = "unit";
    public const string Cause = "cause";
    public const string Topic = "topic";

    /// <summary>The interrogative word of a question ("who", "when", ...) or "yes/no".</summary>
    public const string Asks = "asks";

    private static readonly FrozenDictionary<FrameType, (string[] Required, string[] Optional)> Schema =
        new Dictionary<FrameType, (string[] Required, string[] Optional)>
        {
            [FrameType.Decision] = ([Agent, Object, Rationale], [Time]),
            [FrameType.Process] = ([Object, Owner], [Frequency, Steps, Time]),
            [FrameType.Ownership] = ([Owner, Object], []),
            [FrameType.Event] = ([Object, Time], [Place]),
            [FrameType.Constraint] = ([Object, Limit], [Time]),
            [FrameType.Definition] = ([Term, Definition], []),
            [FrameType.Metric] = ([Metric, Value], [Unit, Time]),
            [FrameType.Problem] = ([Object, Cause, Owner], [Time]),
            [FrameType.Question] = ([Topic], [Asks])
        }.ToFrozenDictionary();

    public static IReadOnlyList<string> Required(FrameType type) => Schema[type].Required;

    public static IReadOnlyList<string> Optional(FrameType type) => Schema[type].Optional;
}
