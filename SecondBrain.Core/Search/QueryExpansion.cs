using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace SecondBrain.Core.Search;

/// <summary>
/// Query expansion: built-in acronyms and synonyms (immutable, shared by every tenant) plus the tenant's glossary
/// (read per request from Postgres). Expansions widen the keyword query; the dense query uses the original text.
/// </summary>
public static partial class QueryExpansion
{
    private static readonly FrozenDictionary<string, string[]> BuiltIn = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["okr"] = ["objectives and key results"],
        ["kpi"] = ["key performance indicator"],
        ["roi"] = ["return on investment"],
        ["sla"] = ["service level agreement"],
        ["slo"] = ["service level objective"],
        ["eta"] = ["estimated time of arrival"],
        ["pr"] = ["pull request"],
        ["qa"] = ["quality assurance"],
        ["hr"] = ["human resources"],
        ["ceo"] = ["chief executive officer"],
        ["cto"] = ["chief technology officer"],
        ["cfo"] = ["chief financial officer"],
        ["pto"] = ["paid time off", "vacation"],
        ["ooo"] = ["out of office"],
        ["eod"] = ["end of day"],
        ["faq"] = ["frequently asked questions"],
        ["api"] = ["application programming interface"],
        ["db"] = ["database"],
        ["ci"] = ["continuous integration"],
        ["cd"] = ["continuous delivery", "continuous deployment"],
        ["mvp"] = ["minimum viable product"],
        ["gdpr"] = ["general data protection regulation"],
        ["q1"] = ["first quarter"],
        ["q2"] = ["second quarter"],
        ["q3"] = ["third quarter"],
        ["q4"] = ["fourth quarter"],
        ["revenue"] = ["sales", "income"],
        ["meeting"] = ["sync", "call"],
        ["bug"] = ["defect", "issue"],
        ["deadline"] = ["due date"],
        ["customer"] = ["client"],
        ["hire"] = ["recruit"],
        ["budget"] = ["spend", "cost"],
        ["outage"] = ["incident", "downtime"],
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    [GeneratedRegex(@"[\p{L}\p{N}]+", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex WordPattern();

    public static IReadOnlyList<string> Words(string text) =>
        WordPattern().Matches(text).Select(m => m.Value.ToLowerInvariant()).ToList();

    /// <summary>Extra phrases for a query: built-in expansions, then the tenant glossary (term → expansions).</summary>
    public static IReadOnlyList<string> Expand(string query, IReadOnlyDictionary<string, IReadOnlyList<string>> glossary)
    {
        var words = Words(query);
        var lowered = query.ToLowerInvariant();
        var expansions = new List<string>();
        foreach (var word in words.Distinct())
        {
            if (BuiltIn.TryGetValue(word, out var builtIn))
            {
                expansions.AddRange(builtIn);
            }
        }

        foreach (var (term, values) in glossary)
        {
            if (term.Length > 0 && (words.Contains(term.ToLowerInvariant()) || lowered.Contains(term.ToLowerInvariant(), StringComparison.Ordinal)))
            {
                expansions.AddRange(values);
            }
        }

        return expansions.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>
    /// An OR tsquery over the query's words and expansions (to_tsquery syntax, words only, so user input cannot
    /// inject operators). Natural-language questions rarely share every word with the answer, so AND would miss.
    /// </summary>
    public static string ToOrTsQuery(string query, IEnumerable<string> expansions)
    {
        var terms = Words(query).Concat(expansions.SelectMany(Words)).Where(w => w.Length > 1 || char.IsDigit(w[0])).Distinct().Take(64);
        return string.Join(" | ", terms);
    }
}
