using System.Text.Json;

namespace SecondBrain.Benchmarks.Retrieval;

/// <summary>A BEIR-format dataset: corpus and queries as JSON lines, qrels as TSV (query-id, corpus-id, score).</summary>
public sealed record BeirDataset(
    IReadOnlyList<(string Id, string Title, string Text)> Corpus,
    IReadOnlyDictionary<string, string> Queries,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Qrels)
{
    /// <summary>Loads from paths; the corpus may be several files (comma-separated or a glob like corpus.part*.jsonl).</summary>
    public static BeirDataset Load(string corpus, string queries, string qrels)
    {
        var documents = new List<(string, string, string)>();
        foreach (var file in Expand(corpus))
        {
            foreach (var line in File.ReadLines(file).Where(l => l.Length > 0))
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                documents.Add((root.GetProperty("_id").ToString(), root.TryGetProperty("title", out var t) ? t.GetString() ?? "" : "", root.GetProperty("text").GetString() ?? ""));
            }
        }

        var queryTexts = new Dictionary<string, string>();
        foreach (var line in File.ReadLines(queries).Where(l => l.Length > 0))
        {
            using var json = JsonDocument.Parse(line);
            queryTexts[json.RootElement.GetProperty("_id").ToString()] = json.RootElement.GetProperty("text").GetString() ?? "";
        }

        var judged = new Dictionary<string, Dictionary<string, int>>();
        foreach (var line in File.ReadLines(qrels).Skip(1).Where(l => l.Length > 0))
        {
            var parts = line.Split('\t');
            if (parts.Length < 3 || !int.TryParse(parts[2], out var score))
            {
                continue;
            }

            if (!judged.TryGetValue(parts[0], out var forQuery))
            {
                judged[parts[0]] = forQuery = [];
            }

            forQuery[parts[1]] = score;
        }

        return new BeirDataset(documents, queryTexts,
            judged.Where(q => queryTexts.ContainsKey(q.Key)).ToDictionary(q => q.Key, q => (IReadOnlyDictionary<string, int>)q.Value));
    }

    private static IEnumerable<string> Expand(string pattern) =>
        pattern.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).SelectMany<string, string>(p =>
            p.Contains('*')
                ? Directory.GetFiles(Path.GetDirectoryName(Path.GetFullPath(p))!, Path.GetFileName(p)).Order(StringComparer.Ordinal)
                : [p]);
}

/// <summary>The standard IR metrics over graded relevance.</summary>
public static class RetrievalMetrics
{
    public static double NdcgAt(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> relevant, int k)
    {
        double dcg = 0;
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (relevant.TryGetValue(ranked[i], out var gain) && gain > 0)
            {
                dcg += (Math.Pow(2, gain) - 1) / Math.Log2(i + 2);
            }
        }

        var ideal = relevant.Values.Where(v => v > 0).OrderDescending().Take(k).Select((gain, i) => (Math.Pow(2, gain) - 1) / Math.Log2(i + 2)).Sum();
        return ideal == 0 ? 0 : dcg / ideal;
    }

    public static double RecallAt(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> relevant, int k)
    {
        var positives = relevant.Where(r => r.Value > 0).Select(r => r.Key).ToHashSet();
        return positives.Count == 0 ? 0 : ranked.Take(k).Count(positives.Contains) / (double)positives.Count;
    }

    public static double MrrAt(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> relevant, int k)
    {
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (relevant.TryGetValue(ranked[i], out var gain) && gain > 0)
            {
                return 1.0 / (i + 1);
            }
        }

        return 0;
    }
}
