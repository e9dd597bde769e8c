using System.Text.Json;
using System.Text.Json.Serialization;

namespace SecondBrain.Benchmarks.Knowledge.Eval;

/// <summary>A quote from one file of the set: an exact substring of the file's text (Slack: decoded message text; HTML: visible text).</summary>
public sealed record EvalQuote(string File, string Quote);

public sealed record EvalPerson(string Name, IReadOnlyList<string>? Aliases, string? Organisation, string? Role);

public sealed record EvalOrganisation(string Name, IReadOnlyList<string>? Aliases);

/// <summary>A planted gap: its type, what it is about (for bus factor, the person) and the quotes that show it.</summary>
public sealed record EvalGap(string Id, string Type, string? Subject, IReadOnlyList<EvalQuote> Evidence, string? Note);

/// <summary>Text that resembles a gap of <see cref="Resembles"/> but is not one: reporting it is a false positive.</summary>
public sealed record EvalControl(string Id, string? Resembles, IReadOnlyList<EvalQuote> Evidence, string? Note);

/// <summary>A real but unplanted gap the labellers noticed: a gap reported on it is neither right nor wrong.</summary>
public sealed record EvalIncidental(string? Type, IReadOnlyList<EvalQuote> Evidence, string? Note);

/// <summary>The people and organisations one file names (canonical names from <see cref="EvalLabels.People"/> and <see cref="EvalLabels.Organisations"/>).</summary>
public sealed record EvalEntityLabel(string File, IReadOnlyList<string>? People, IReadOnlyList<string>? Organisations);

/// <summary>labels.json of an evaluation set (eval/knowledge/&lt;set&gt;/).</summary>
public sealed record EvalLabels(
    string Set,
    string? Organisation,
    string? Description,
    IReadOnlyList<EvalPerson> People,
    IReadOnlyList<EvalOrganisation> Organisations,
    IReadOnlyList<EvalGap> Gaps,
    IReadOnlyList<EvalControl> Controls,
    IReadOnlyList<EvalIncidental> Incidental,
    IReadOnlyList<EvalEntityLabel> EntityLabels)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull
    };

    public static EvalLabels Read(string path)
    {
        var labels = JsonSerializer.Deserialize<EvalLabels>(File.ReadAllText(path), Json)
            ?? throw new InvalidDataException($"{path} is empty.");
        // Missing lists are empty lists, so the rest of the harness never checks for null.
        return labels with
        {
            People = labels.People ?? [],
            Organisations = labels.Organisations ?? [],
            Gaps = labels.Gaps ?? [],
            Controls = labels.Controls ?? [],
            Incidental = labels.Incidental ?? [],
            EntityLabels = labels.EntityLabels ?? []
        };
    }

    /// <summary>Every quote the labels cite, with what cites it (for validation messages).</summary>
    public IEnumerable<(string Owner, EvalQuote Quote)> AllQuotes() =>
        Gaps.SelectMany(g => g.Evidence.Select(e => ($"gap {g.Id}", e)))
            .Concat(Controls.SelectMany(c => c.Evidence.Select(e => ($"control {c.Id}", e))))
            .Concat(Incidental.SelectMany((i, n) => i.Evidence.Select(e => ($"incidental #{n + 1} ({i.Type})", e))));
}
