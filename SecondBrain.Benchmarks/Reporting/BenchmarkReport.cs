using System.Globalization;
using System.Text.Json;

namespace SecondBrain.Benchmarks.Reporting;

public sealed record BenchmarkArguments(string Benchmark, int Runs, int IdleSeconds, string OutputDirectory, IReadOnlyDictionary<string, string> Options)
{
    public static BenchmarkArguments Parse(string[] args)
    {
        var benchmark = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "startup";
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
            {
                options[args[i][2..]] = args[++i];
            }
        }

        return new BenchmarkArguments(
            benchmark,
            options.TryGetValue("runs", out var runs) ? int.Parse(runs, CultureInfo.InvariantCulture) : 3,
            options.TryGetValue("idle-seconds", out var idle) ? int.Parse(idle, CultureInfo.InvariantCulture) : 10,
            options.TryGetValue("out", out var output) ? output : "benchmark-results",
            options);
    }
}

/// <summary>A benchmark's result: a table for people and JSON for machines (and for later comparisons).</summary>
public sealed record BenchmarkReport(string Name, string Description, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows, object Data)
{
    public void Print(TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"## {Name}: {Description}");
        var widths = Columns.Select((c, i) => Math.Max(c.Length, Rows.Count == 0 ? 0 : Rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine("| " + string.Join(" | ", Columns.Select((c, i) => c.PadRight(widths[i]))) + " |");
        output.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        foreach (var row in Rows)
        {
            output.WriteLine("| " + string.Join(" | ", row.Select((c, i) => c.PadRight(widths[i]))) + " |");
        }

        output.WriteLine();
    }

    public string Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{Name}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new { Name, Description, MeasuredAt = DateTimeOffset.UtcNow, Environment.ProcessorCount, Data },
            new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        return Path.GetFullPath(path);
    }

    public static string Mb(double bytes) => (bytes / (1024 * 1024)).ToString("F1", CultureInfo.InvariantCulture);

    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture);
}
