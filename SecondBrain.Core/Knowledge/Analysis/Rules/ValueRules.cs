using System.Globalization;
using System.Text.RegularExpressions;
using SecondBrain.Core.Common;

namespace SecondBrain.Core.Knowledge.Analysis.Rules;

/// <summary>
/// Values stated about something, for contradictions across wording: a percentage, an amount of money or a duration,
/// with the words around it (the value itself taken out) and the names it is about (capitalised words and acronyms).
/// Two statements contradict when they are about the same named thing, say it the same way in meaning (their contexts
/// are alike) and give values of one kind that differ by a near miss (within a factor of three, or ten points): 99.9%
/// against 99.95% uptime, 2 against 4 hours of restore time, €0.04 against 4.5 euro cents. A statement of change
/// ("raised from 50 to 120") is history, not a contradiction.
/// </summary>
public static partial class ValueRules
{
    public sealed record Value(string Kind, decimal Amount, string Text, string Context, HashSet<string> Names);

    public static IReadOnlyList<Value> Find(string sentence)
    {
        // No speaker stripping: "Target restore time for Tollgate production: 4 h" is a label and its value.
        var text = sentence;
        if (Change().IsMatch(text) || GapRules.IsQuestion(text))
        {
            return [];
        }

        var values = new List<Value>();
        foreach (var match in SafeRegex.Matches(Quantity(), text))
        {
            if (Parse(match) is not { } value)
            {
                continue;
            }

            var from = Math.Max(0, match.Index - 70);
            var to = Math.Min(text.Length, match.Index + match.Length + 50);
            var context = (text[from..match.Index] + " " + text[(match.Index + match.Length)..to]).Trim();
            values.Add(new Value(value.Kind, value.Amount, match.Value, context, Names(text)));
        }

        return values;
    }

    /// <summary>Values of one kind that are a near miss of each other: the same measure stated differently.</summary>
    public static bool NearMiss(Value a, Value b)
    {
        if (a.Kind != b.Kind || a.Amount == b.Amount || a.Amount <= 0 || b.Amount <= 0)
        {
            return false;
        }

        return a.Kind == "percent" ? Math.Abs(a.Amount - b.Amount) <= 10 : Math.Max(a.Amount, b.Amount) / Math.Min(a.Amount, b.Amount) <= 3;
    }

    /// <summary>Capitalised words (not sentence-initial) and acronyms: what the value is about.</summary>
    public static HashSet<string> Names(string text)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in Name().Matches(text))
        {
            var lower = match.Value.ToLowerInvariant();
            if (!Months.Contains(lower) && (match.Index > 0 || !SecondBrain.Core.Knowledge.Extraction.WordLists.Classes.ContainsKey(lower)) && !Common.Contains(lower))
            {
                names.Add(match.Value.ToLowerInvariant());
            }
        }

        return names;
    }

    private static (string Kind, decimal Amount)? Parse(Match match)
    {
        var number = match.Groups["n"].Success ? match.Groups["n"].Value : match.Groups["w"].Value;
        decimal amount;
        if (Words.TryGetValue(number.ToLowerInvariant(), out var word))
        {
            amount = word;
        }
        else if (!decimal.TryParse(number.Replace(",", "", StringComparison.Ordinal), NumberStyles.Number, CultureInfo.InvariantCulture, out amount))
        {
            return null;
        }

        var unit = match.Groups["u"].Value.ToLowerInvariant();
        var currency = match.Groups["c"].Value.ToLowerInvariant();
        if (unit == "%" || unit.StartsWith("percent", StringComparison.Ordinal))
        {
            return ("percent", amount);
        }

        if (currency.Length > 0 || match.Groups["v"].Success || unit is "euro" or "euros" or "eur" or "usd" or "dollars" or "cents" or "euro cents" or "gbp" or "nok" or "sek")
        {
            var magnitude = match.Groups["m"].Value.ToLowerInvariant() switch
            {
                "k" or "thousand" => 1_000m,
                "m" or "million" => 1_000_000m,
                "bn" => 1_000_000_000m,
                _ => 1m
            };
            return ("money", (unit.Contains("cent", StringComparison.Ordinal) ? amount / 100 : amount) * magnitude);
        }

        var hours = unit switch
        {
            "h" or "hr" or "hrs" or "hour" or "hours" => 1m,
            "min" or "mins" or "minute" or "minutes" => 1m / 60,
            "day" or "days" or "business days" or "working days" => 24m,
            "week" or "weeks" => 168m,
            "month" or "months" => 730m,
            "year" or "years" => 8760m,
            _ => 0m
        };
        return hours > 0 ? ("duration", amount * hours) : null;
    }

    private static readonly Dictionary<string, decimal> Words = new(StringComparer.Ordinal)
    {
        ["one"] = 1, ["two"] = 2, ["three"] = 3, ["four"] = 4, ["five"] = 5, ["six"] = 6, ["seven"] = 7, ["eight"] = 8, ["nine"] = 9, ["ten"] = 10,
        ["eleven"] = 11, ["twelve"] = 12, ["fifteen"] = 15, ["twenty"] = 20, ["thirty"] = 30
    };

    private static readonly HashSet<string> Common = new(StringComparer.Ordinal) { "our", "we", "the", "a", "an", "this", "that", "service", "target", "i", "it", "yes", "no" };

    private static readonly HashSet<string> Months = new(StringComparer.Ordinal)
    {
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    };

    // Money also as "£3.9k", "$1.2m", and "we pay them 4.1k a month" (the currency implied by a verb of paying).
    [GeneratedRegex(@"(?<c>€|\$|£)\s?(?<n>\d[\d,]*(\.\d+)?)(\s?(?<m>k|m|bn|thousand|million)(?![\w-]))?"
        + @"|\b(?<v>pay|pays|paid|paying|cost|costs|costing|spend|spends|spent|budget|budgeted|charge|charges|charged|invoice|invoices|invoiced)\b[^.\d€$£]{0,30}?(?<n>\d+(\.\d+)?)\s?(?<m>k|m)(?![\w-])"
        + @"|(?:(?<n>\d[\d,]*(\.\d+)?)|\b(?<w>one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty))\s?(?<u>%|percent|euro cents|cents|euros?|EUR|USD|GBP|NOK|SEK|dollars|h|hrs?|hours?|mins?|minutes?|business days|working days|days?|weeks?|months?|years?)(?![\w-])",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: SafeRegex.TimeoutMilliseconds)]
    private static partial Regex Quantity();

    [GeneratedRegex(@"\b(from\s+\S+\s+to\b|raised|increased|decreased|reduced|lowered|went up|went down|up from|down from|changed|instead of|no longer|used to|previously|was\s+\S+\s+(before|until))",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Change();

    [GeneratedRegex(@"\b(\p{Lu}[\p{L}\p{N}]+|[A-Z]{2,}[0-9]*)\b", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Name();
}
