namespace SecondBrain.Core.Search;

/// <summary>Reciprocal rank fusion: score = Σ 1 / (k + rank) over the lists a result appears in.</summary>
public static class ReciprocalRankFusion
{
    public const int DefaultK = 60;

    public static IReadOnlyList<(Guid Id, double Score)> Fuse(IEnumerable<IReadOnlyList<Guid>> rankings, int k = DefaultK)
    {
        var scores = new Dictionary<Guid, double>();
        foreach (var ranking in rankings)
        {
            for (var rank = 0; rank < ranking.Count; rank++)
            {
                scores[ranking[rank]] = scores.GetValueOrDefault(ranking[rank]) + 1.0 / (k + rank + 1);
            }
        }

        return scores.OrderByDescending(s => s.Value).ThenBy(s => s.Key).Select(s => (s.Key, s.Value)).ToList();
    }
}
