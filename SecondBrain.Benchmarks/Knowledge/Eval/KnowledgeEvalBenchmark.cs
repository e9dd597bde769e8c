using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecondBrain.Benchmarks.Reporting;

namespace SecondBrain.Benchmarks.Knowledge.Eval;

/// <summary>
/// knowledge-eval: how well the knowledge engine finds planted gaps and the people and organisations in documents
/// nobody tuned it for. Each set of eval/knowledge/ (or <c>--sets a,b</c>; <c>planted</c> is the engine's own test
/// corpus) is validated, ingested into its own tenant through the real stack and scored (see <see cref="EvalScoring"/>).
/// Targets: recall at least 0.85 and precision at least 0.8 per gap type, F1 at least 0.85 for people and organisations.
/// </summary>
public static class KnowledgeEvalBenchmark
{
    public const double RecallTarget = 0.85;
    public const double PrecisionTarget = 0.8;
    public const double F1Target = 0.85;

    private sealed record SetResult(
        string Set, int Documents, double Seconds, IReadOnlyList<GapTypeScore> Gaps, GapDiagnostics GapDiagnostics,
        IReadOnlyList<EntityTypeScore> Entities, IReadOnlyList<EntityDiagnostics> EntityDiagnostics);

    public static async Task<BenchmarkReport> RunAsync(BenchmarkArguments arguments)
    {
        var sets = LoadSets(arguments);
        Console.WriteLine($"knowledge-eval: {string.Join(", ", sets.Select(s => $"{s.Name} ({s.Labels.Gaps.Count} gaps, {s.Labels.EntityLabels.Count} labelled files)"))}");
        var verbose = arguments.Options.TryGetValue("verbose", out var v) && v is "true" or "1";

        // --stack-logs true shows the services' own logs (startup problems, extraction and analysis errors).
        var stackLogs = arguments.Options.TryGetValue("stack-logs", out var l) && l is "true" or "1";
        await using var stack = await SecondBrainStack.StartAsync(new StackOptions
        {
            Purpose = "secondbrain-bench",
            StartTimeout = TimeSpan.FromMinutes(10),
            Configure = stackLogs
                ? builder => builder.Services.AddLogging(logging => logging.AddFilter("SecondBrain.AppHost.Resources", LogLevel.Information).AddSimpleConsole())
                : null
        });
        var results = new List<SetResult>();
        foreach (var set in sets)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromHours(2));
            var tenant = await EvalTenant.CreateAsync(stack);
            var elapsed = await tenant.IngestAsync(set, timeout.Token);
            var entities = await tenant.EntitiesAsync(timeout.Token);
            var gaps = await tenant.GapsAsync(entities, timeout.Token);
            var (gapScores, gapDiagnostics) = EvalScoring.ScoreGaps(set.Labels, gaps);
            var byFile = await tenant.EntitiesByFileAsync(set, entities, timeout.Token);
            var people = EvalScoring.ScoreEntities("person", set.Labels, byFile);
            var organisations = EvalScoring.ScoreEntities("organisation", set.Labels, byFile);
            var result = new SetResult(set.Name, set.MailFiles.Count + set.UploadFiles.Count, elapsed.TotalSeconds, gapScores, gapDiagnostics,
                [people.Score, organisations.Score], [people.Diagnostics, organisations.Diagnostics]);
            results.Add(result);
            Console.WriteLine($"knowledge-eval {set.Name}: {gaps.Count} gaps reported, {entities.Count} people and organisations, {elapsed.TotalSeconds:F0}s");
            if (verbose)
            {
                PrintDiagnostics(result);
            }

            if (arguments.Options.TryGetValue("dump", out var dump) && dump is "true" or "1")
            {
                Console.WriteLine($"knowledge-eval {set.Name}: stored knowledge written to {await EvalDump.WriteAsync(stack.DatabaseConnectionString, tenant.TenantId, arguments.OutputDirectory, set.Name, timeout.Token)}");
            }
        }

        var rows = new List<IReadOnlyList<string>>();
        foreach (var result in results)
        {
            AddRows(rows, result.Set, result.Gaps, result.Entities);
        }

        IReadOnlyList<GapTypeScore> combinedGaps = [];
        IReadOnlyList<EntityTypeScore> combinedEntities = [];
        if (results.Count > 1)
        {
            combinedGaps = EvalScoring.GapTypes.Select(type => results.Select(r => r.Gaps.Single(g => g.Type == type))
                .Aggregate((a, b) => new GapTypeScore(type, a.Planted + b.Planted, a.Found + b.Found, a.Reported + b.Reported, a.Counted + b.Counted,
                    a.Correct + b.Correct, a.Incidental + b.Incidental))).ToList();
            combinedEntities = new[] { "person", "organisation" }.Select(type => results.Select(r => r.Entities.Single(e => e.Type == type))
                .Aggregate((a, b) => new EntityTypeScore(type, a.Documents + b.Documents, a.TruePositives + b.TruePositives,
                    a.FalsePositives + b.FalsePositives, a.FalseNegatives + b.FalseNegatives))).ToList();
            AddRows(rows, "combined", combinedGaps, combinedEntities);
        }

        return new BenchmarkReport("knowledge-eval",
            $"planted gaps and entities in {string.Join(", ", sets.Select(s => s.Name))}, one tenant each through the real stack (1 Api, 1 Worker, local mode, {Environment.ProcessorCount} cores); "
            + $"targets: gap recall >= {RecallTarget:0.00} and precision >= {PrecisionTarget:0.00} per type, entity F1 >= {F1Target:0.00}",
            ["set", "measure", "labelled", "reported", "recall", "precision", "F1", "meets target"],
            rows,
            new
            {
                Targets = new { Recall = RecallTarget, Precision = PrecisionTarget, F1 = F1Target },
                Sets = results,
                Combined = results.Count > 1 ? new { Gaps = combinedGaps, Entities = combinedEntities } : null
            });
    }

    private static void AddRows(List<IReadOnlyList<string>> rows, string set, IReadOnlyList<GapTypeScore> gaps, IReadOnlyList<EntityTypeScore> entities)
    {
        foreach (var gap in gaps)
        {
            var meets = gap.Planted == 0 ? "n/a" : gap.Recall >= RecallTarget && (gap.Precision ?? 0) >= PrecisionTarget ? "yes" : "no";
            rows.Add([set, gap.Type, $"{gap.Found}/{gap.Planted}", $"{gap.Correct}/{gap.Counted}" + (gap.Incidental > 0 ? $" (+{gap.Incidental} incidental)" : ""),
                F(gap.Recall), F(gap.Precision), "", meets]);
        }

        foreach (var entity in entities)
        {
            var meets = entity.Documents == 0 ? "n/a" : entity.F1 >= F1Target ? "yes" : "no";
            rows.Add([set, entity.Type == "person" ? "people" : "organisations", $"{entity.TruePositives}/{entity.TruePositives + entity.FalseNegatives} in {entity.Documents} files",
                $"{entity.TruePositives}/{entity.TruePositives + entity.FalsePositives}", F(entity.Recall), F(entity.Precision), F(entity.F1), meets]);
        }
    }

    private static void PrintDiagnostics(SetResult result)
    {
        Console.WriteLine($"--- {result.Set}: missed gaps");
        result.GapDiagnostics.Missed.ToList().ForEach(m => Console.WriteLine("  " + m));
        Console.WriteLine($"--- {result.Set}: reported gaps matching nothing planted");
        result.GapDiagnostics.FalsePositives.ToList().ForEach(m => Console.WriteLine("  " + m));
        foreach (var (score, diagnostics) in result.Entities.Zip(result.EntityDiagnostics))
        {
            Console.WriteLine($"--- {result.Set}: {score.Type} missed");
            diagnostics.Missed.ToList().ForEach(m => Console.WriteLine("  " + m));
            Console.WriteLine($"--- {result.Set}: {score.Type} spurious");
            diagnostics.Spurious.ToList().ForEach(m => Console.WriteLine("  " + m));
        }
    }

    private static string F(double? value) => value is { } v ? v.ToString("0.00", CultureInfo.InvariantCulture) : "-";

    private static List<EvalSet> LoadSets(BenchmarkArguments arguments)
    {
        var requested = arguments.Options.TryGetValue("sets", out var names) || arguments.Options.TryGetValue("set", out names)
            ? names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList()
            : null;
        var root = new Lazy<string>(() => arguments.Options.TryGetValue("eval-dir", out var dir) ? Path.GetFullPath(dir) : Locate(Path.Combine("eval", "knowledge")));
        var sets = new List<EvalSet>();
        foreach (var name in requested ?? Directory.EnumerateDirectories(root.Value).Where(d => File.Exists(Path.Combine(d, "labels.json"))).Select(Path.GetFileName).OfType<string>().Order().ToList())
        {
            sets.Add(name == PlantedCorpusSet.Name
                ? PlantedCorpusSet.Load(Locate(Path.Combine("SecondBrain.Tests", "Knowledge", "Corpus")))
                : EvalSet.Load(Path.Combine(root.Value, name)));
        }

        if (sets.Count == 0)
        {
            throw new InvalidOperationException($"No evaluation set with a labels.json under {root.Value} (or pass --sets planted).");
        }

        return sets;
    }

    private static string Locate(string relative)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, relative);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }
}
