using System.Text.Json;

namespace SecondBrain.Benchmarks.Knowledge.Eval;

/// <summary>
/// The engine's own planted-gap corpus (SecondBrain.Tests/Knowledge/Corpus, planted-gaps.json) read as an evaluation
/// set, so the harness can be run and checked on a corpus whose answers are known. It has no entity labels per file;
/// its people and organisations are listed for alias matching only.
/// </summary>
public static class PlantedCorpusSet
{
    public const string Name = "planted";

    public static EvalSet Load(string corpusRoot)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(corpusRoot, "planted-gaps.json")));
        var root = json.RootElement;
        var busFactorPerson = root.TryGetProperty("expectedBusFactorPerson", out var person) ? person.GetString() : null;

        static IReadOnlyList<EvalQuote> Quotes(JsonElement item) =>
            item.GetProperty("evidence").EnumerateArray().Select(e => new EvalQuote(e.GetProperty("file").GetString()!, e.GetProperty("quote").GetString()!)).ToList();

        var gaps = root.GetProperty("gaps").EnumerateArray().Select(g =>
        {
            var type = g.GetProperty("type").GetString()!;
            return new EvalGap(g.GetProperty("id").GetString()!, type, type == "bus_factor" ? busFactorPerson : null, Quotes(g),
                g.TryGetProperty("note", out var note) ? note.GetString() : null);
        }).ToList();
        var controls = root.GetProperty("controls").EnumerateArray()
            .Select(c => new EvalControl(c.GetProperty("id").GetString()!, c.GetProperty("type").GetString(), Quotes(c), c.TryGetProperty("note", out var note) ? note.GetString() : null))
            .ToList();
        var people = root.GetProperty("people").EnumerateArray()
            .Concat(root.TryGetProperty("externalPeople", out var external) ? external.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Select(p => new EvalPerson(p.GetProperty("name").GetString()!,
                p.TryGetProperty("email", out var email) ? [email.GetString()!] : [], null, p.TryGetProperty("role", out var role) ? role.GetString() : null))
            .ToList();
        var organisations = root.GetProperty("organisations").EnumerateArray().Select(o => new EvalOrganisation(o.GetString()!, [])).ToList();

        var labels = new EvalLabels(Name, root.GetProperty("company").GetString(), root.GetProperty("description").GetString(),
            people, organisations, gaps, controls, [], []);
        var set = new EvalSet(Name, corpusRoot, labels);
        set.Validate();
        return set;
    }
}
