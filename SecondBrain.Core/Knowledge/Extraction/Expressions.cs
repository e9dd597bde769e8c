using System.Collections.Frozen;
using System.Globalization;

namespace SecondBrain.Core.Knowledge.Extraction;

internal enum TimeKind : byte
{
    Date,
    Month,
    Quarter,
    Year,
    Weekday,
    Relative,
    Clock
}

/// <param name="First">First token of the expression itself.</param>
/// <param name="Lead">First token including a leading preposition ("by Friday"): what a time slot shows.</param>
internal readonly record struct TimeExpression(int Lead, int First, int End, TimeKind Kind, string Normalized);

internal readonly record struct Quantity(int First, int End, ClaimValueKind Kind, string Normalized, string? Unit);

/// <summary>Dates, times and quantities found over the token stream (no regexes): they fill time, value and limit slots and become claim values.</summary>
internal static class Expressions
{
    private static readonly string[] MonthNames = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

    private static readonly FrozenSet<string> TimePrepositions = FrozenSet.Create(StringComparer.Ordinal,
        "by", "on", "in", "before", "after", "until", "till", "since", "during", "from", "through", "effective", "starting", "at", "around");

    public static void FindTimes(string text, List<Token> tokens, List<TimeExpression> times)
    {
        for (var i = 0; i < tokens.Count;)
        {
            var end = TryTime(text, tokens, i, out var kind, out var normalized);
            if (end <= i)
            {
                i++;
                continue;
            }

            var lead = i;
            if (i > 0 && tokens[i - 1].IsWord && TimePrepositions.Contains(Lower(text, tokens[i - 1])))
            {
                lead = i - 1;
            }

            times.Add(new TimeExpression(lead, i, end, kind, normalized));
            i = end;
        }
    }

    public static void FindQuantities(string text, List<Token> tokens, List<TimeExpression> times, List<Quantity> quantities)
    {
        var timeIndex = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            while (timeIndex < times.Count && times[timeIndex].End <= i)
            {
                timeIndex++;
            }

            if (timeIndex < times.Count && times[timeIndex].First <= i)
            {
                i = times[timeIndex].End - 1;
                continue;
            }

            var end = TryQuantity(text, tokens, i, out var quantity);
            if (end > i)
            {
                quantities.Add(quantity);
                i = end - 1;
            }
        }
    }

    /// <summary>
    /// Frequencies: "every 90 days", "every other week", "each quarter", "every Friday", "every morning",
    /// "once a month", "twice a week", "3 times a week", "four times per year". Single-word ones ("daily", "nightly")
    /// are lexicon entries.
    /// </summary>
    public static void FindFrequencies(string text, List<Token> tokens, List<(int First, int End)> frequencies)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (!t.IsWord && t.Kind != TokenKind.Number)
            {
                continue;
            }

            var lower = Lower(text, t);
            var end = -1;
            if (lower is "every" or "each")
            {
                var j = i + 1;
                if (j < tokens.Count && IsWord(text, tokens[j], "other"))
                {
                    j++;
                }

                var counted = false;
                if (j < tokens.Count && !(tokens[j].IsWord && tokens[j].Is(WordClass.Article)) && NumberValue(text, tokens[j]) is > 1)
                {
                    j++;
                    counted = true;
                }

                if (j < tokens.Count && tokens[j].IsWord && (counted ? tokens[j].Is(WordClass.DurationUnit) : tokens[j].Is(WordClass.Period) || tokens[j].Is(WordClass.Weekday) || IsWord(text, tokens[j], "weekday")))
                {
                    end = j + 1;
                }
            }
            else if (lower is "once" or "twice" or "thrice"
                || (lower == "times" && i > 0 && (NumberValue(text, tokens[i - 1]) is > 1 || IsWord(text, tokens[i - 1], "several") || IsWord(text, tokens[i - 1], "many"))))
            {
                var j = i + 1;
                if (j + 1 < tokens.Count && tokens[j].IsWord && Lower(text, tokens[j]) is "a" or "an" or "per" or "every" or "each"
                    && tokens[j + 1].IsWord && (tokens[j + 1].Is(WordClass.Period) || tokens[j + 1].Is(WordClass.DurationUnit)))
                {
                    end = j + 2;
                }
            }

            if (end > i)
            {
                var first = lower == "times" ? i - 1 : i;
                frequencies.Add((first, end));
                i = end - 1;
            }
        }
    }

    private static int TryTime(string text, List<Token> tokens, int i, out TimeKind kind, out string normalized)
    {
        kind = TimeKind.Date;
        normalized = "";
        var t = tokens[i];
        var span = text.AsSpan(t.Start, t.Length);
        if (t.Kind == TokenKind.Number)
        {
            if (IsoDate(span, out var iso))
            {
                normalized = iso;
                return i + 1;
            }

            if (SlashDate(span, out var slash))
            {
                normalized = slash;
                return i + 1;
            }

            if (Clock(span, tokens, text, i, out var clockEnd))
            {
                kind = TimeKind.Clock;
                normalized = text[t.Start..tokens[clockEnd - 1].End].ToLowerInvariant();
                return clockEnd;
            }

            // "3 March 2025", "3rd of March"
            if (Day(span, out var day))
            {
                var m = i + 1;
                if (m < tokens.Count && IsWord(text, tokens[m], "of"))
                {
                    m++;
                }

                if (m < tokens.Count && MonthOf(text, tokens, m, requireContext: false) is { } month)
                {
                    var end = m + 1;
                    var year = YearAt(text, tokens, end, out var afterYear);
                    normalized = Date(year, month, day);
                    return year is null ? end : afterYear;
                }
            }

            if (span.Length == 4 && int.TryParse(span, NumberStyles.None, CultureInfo.InvariantCulture, out var y) && y is >= 1900 and <= 2099
                && i > 0 && tokens[i - 1].IsWord && TimePrepositions.Contains(Lower(text, tokens[i - 1])))
            {
                kind = TimeKind.Year;
                normalized = span.ToString();
                return i + 1;
            }

            return i;
        }

        if (t.Kind != TokenKind.Word)
        {
            return i;
        }

        if (MonthOf(text, tokens, i, requireContext: true) is { } monthNumber)
        {
            var j = i + 1;
            if (j < tokens.Count && tokens[j].Kind == TokenKind.Punct && text[tokens[j].Start] == '.')
            {
                j++;
            }

            if (j < tokens.Count && tokens[j].Kind == TokenKind.Number && Day(text.AsSpan(tokens[j].Start, tokens[j].Length), out var day))
            {
                var end = j + 1;
                var k = end < tokens.Count && tokens[end].Kind == TokenKind.Punct && text[tokens[end].Start] == ',' ? end + 1 : end;
                var year = YearAt(text, tokens, k, out var afterYear);
                normalized = Date(year, monthNumber, day);
                return year is null ? end : afterYear;
            }

            var onlyYear = YearAt(text, tokens, j, out var afterMonthYear);
            kind = TimeKind.Month;
            normalized = onlyYear is { } yy ? $"{yy:D4}-{monthNumber:D2}" : $"--{monthNumber:D2}";
            return onlyYear is null ? i + 1 : afterMonthYear;
        }

        var lower = Lower(text, t);
        if (t.Is(WordClass.Weekday) && (lower is "tues" or "thurs" || !lower.EndsWith('s')))
        {
            // "Sunday, January 20, 2002" is one date.
            var d = i + 1 < tokens.Count && tokens[i + 1].Kind == TokenKind.Punct && text[tokens[i + 1].Start] == ',' ? i + 2 : i + 1;
            if (d < tokens.Count && MonthOf(text, tokens, d, requireContext: false) is not null)
            {
                var dateEnd = TryTime(text, tokens, d, out var dateKind, out var dateValue);
                if (dateEnd > d && dateKind == TimeKind.Date)
                {
                    normalized = dateValue;
                    return dateEnd;
                }
            }

            kind = TimeKind.Weekday;
            var weekday = lower switch { "tues" => "tuesday", "thurs" => "thursday", _ => lower };
            if (i > 0 && tokens[i - 1].IsWord && tokens[i - 1].Is(WordClass.RelativeModifier))
            {
                kind = TimeKind.Relative;
                normalized = $"{Lower(text, tokens[i - 1])} {weekday}";
                return i + 1;
            }

            normalized = weekday;
            return i + 1;
        }

        if (t.Is(WordClass.RelativeDay))
        {
            kind = TimeKind.Relative;
            normalized = lower;
            return i + 1;
        }

        if (t.Is(WordClass.RelativeModifier) && i + 1 < tokens.Count)
        {
            if (lower == "end" && IsWord(text, tokens[i + 1], "of"))
            {
                var j = i + 2;
                if (j < tokens.Count && IsWord(text, tokens[j], "the"))
                {
                    j++;
                }

                if (j < tokens.Count && tokens[j].IsWord && tokens[j].Is(WordClass.Period))
                {
                    kind = TimeKind.Relative;
                    normalized = $"end of {Lower(text, tokens[j])}";
                    return j + 1;
                }
            }
            else if (lower is not ("early" or "late" or "mid" or "end") && tokens[i + 1].IsWord && tokens[i + 1].Is(WordClass.Period))
            {
                kind = TimeKind.Relative;
                normalized = $"{lower} {Lower(text, tokens[i + 1])}";
                return i + 2;
            }
        }

        if (lower == "in" && i + 2 < tokens.Count && NumberValue(text, tokens[i + 1]) is { } count && tokens[i + 2].Is(WordClass.DurationUnit))
        {
            kind = TimeKind.Relative;
            normalized = $"in {count.ToString(CultureInfo.InvariantCulture)} {Singular(Lower(text, tokens[i + 2]))}";
            return i + 3;
        }

        if (lower.Length == 2 && lower[0] is 'q' or 'h' && char.IsDigit(lower[1]) && (lower[0] == 'q' ? lower[1] is >= '1' and <= '4' : lower[1] is '1' or '2'))
        {
            kind = TimeKind.Quarter;
            var label = char.ToUpperInvariant(lower[0]) + lower[1..];
            var year = YearAt(text, tokens, i + 1, out var afterYear);
            normalized = year is { } qy ? $"{qy:D4}-{label}" : label;
            return year is null ? i + 1 : afterYear;
        }

        if (lower.StartsWith("fy", StringComparison.Ordinal) && lower.Length is 4 or 6 && int.TryParse(lower.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var fiscal))
        {
            kind = TimeKind.Year;
            normalized = $"FY{(fiscal < 100 ? 2000 + fiscal : fiscal):D4}";
            return i + 1;
        }

        return i;
    }

    private static int? MonthOf(string text, List<Token> tokens, int i, bool requireContext)
    {
        var t = tokens[i];
        if (!t.IsWord || !t.Is(WordClass.Month))
        {
            return null;
        }

        var lower = Lower(text, t);
        var month = Array.FindIndex(MonthNames, m => m.StartsWith(lower, StringComparison.Ordinal) && (lower.Length >= 3)) + 1;
        if (lower == "sept")
        {
            month = 9;
        }

        if (month == 0)
        {
            return null;
        }

        if (!requireContext)
        {
            return month;
        }

        var next = i + 1 < tokens.Count ? tokens[i + 1] : default;
        var numberFollows = next.Kind == TokenKind.Number
            || (next.Kind == TokenKind.Punct && text[next.Start] == '.' && i + 2 < tokens.Count && tokens[i + 2].Kind == TokenKind.Number);
        if (!t.Has(TokenFlags.Capitalized))
        {
            return numberFollows && lower.Length > 3 ? month : null;
        }

        // "May" and "March" are words too: without a number they need a preposition before them.
        var prepositionBefore = i > 0 && tokens[i - 1].IsWord && (TimePrepositions.Contains(Lower(text, tokens[i - 1])) || tokens[i - 1].Is(WordClass.RelativeModifier)
            || IsWord(text, tokens[i - 1], "of") || IsWord(text, tokens[i - 1], "for") || IsWord(text, tokens[i - 1], "to"));
        return numberFollows || prepositionBefore || (lower is not ("may" or "march") && lower.Length > 3) ? month : null;
    }

    private static int? YearAt(string text, List<Token> tokens, int i, out int end)
    {
        end = i;
        if (i < tokens.Count && tokens[i].Kind == TokenKind.Number && tokens[i].Length == 4
            && int.TryParse(text.AsSpan(tokens[i].Start, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var year) && year is >= 1900 and <= 2099)
        {
            end = i + 1;
            return year;
        }

        return null;
    }

    private static string Date(int? year, int month, int day) => year is { } y ? $"{y:D4}-{month:D2}-{day:D2}" : $"--{month:D2}-{day:D2}";

    private static bool Day(ReadOnlySpan<char> span, out int day)
    {
        var digits = 0;
        while (digits < span.Length && char.IsDigit(span[digits]))
        {
            digits++;
        }

        var suffix = span[digits..];
        day = 0;
        return digits is 1 or 2
            && (suffix.IsEmpty || suffix.Equals("st", StringComparison.OrdinalIgnoreCase) || suffix.Equals("nd", StringComparison.OrdinalIgnoreCase)
                || suffix.Equals("rd", StringComparison.OrdinalIgnoreCase) || suffix.Equals("th", StringComparison.OrdinalIgnoreCase))
            && int.TryParse(span[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out day) && day is >= 1 and <= 31;
    }

    private static bool IsoDate(ReadOnlySpan<char> s, out string normalized)
    {
        normalized = "";
        if (s.Length != 10 || s[4] != '-' || s[7] != '-')
        {
            return false;
        }

        if (int.TryParse(s[..4], NumberStyles.None, CultureInfo.InvariantCulture, out var y) && int.TryParse(s[5..7], NumberStyles.None, CultureInfo.InvariantCulture, out var m)
            && int.TryParse(s[8..], NumberStyles.None, CultureInfo.InvariantCulture, out var d) && m is >= 1 and <= 12 && d is >= 1 and <= 31)
        {
            normalized = Date(y, m, d);
            return true;
        }

        return false;
    }

    /// <summary>US order, as in the e-mail this mostly reads: 3/14/2025, 3/14/25, 3/14.</summary>
    private static bool SlashDate(ReadOnlySpan<char> s, out string normalized)
    {
        normalized = "";
        Span<Range> parts = stackalloc Range[4];
        var count = s.Split(parts, '/');
        if (count is not (2 or 3))
        {
            return false;
        }

        if (!int.TryParse(s[parts[0]], NumberStyles.None, CultureInfo.InvariantCulture, out var m) || !int.TryParse(s[parts[1]], NumberStyles.None, CultureInfo.InvariantCulture, out var d)
            || m is < 1 or > 12 || d is < 1 or > 31)
        {
            return false;
        }

        int? year = null;
        if (count == 3)
        {
            if (!int.TryParse(s[parts[2]], NumberStyles.None, CultureInfo.InvariantCulture, out var y))
            {
                return false;
            }

            year = s[parts[2]].Length == 2 ? 2000 + y : s[parts[2]].Length == 4 ? y : null;
            if (year is null)
            {
                return false;
            }
        }

        normalized = Date(year, m, d);
        return true;
    }

    private static bool Clock(ReadOnlySpan<char> s, List<Token> tokens, string text, int i, out int end)
    {
        end = i + 1;
        var lower = s.ToString().ToLowerInvariant();
        if (lower.EndsWith("am", StringComparison.Ordinal) || lower.EndsWith("pm", StringComparison.Ordinal))
        {
            var digits = lower[..^2].Replace(":", "", StringComparison.Ordinal);
            return digits.Length is >= 1 and <= 4 && digits.All(char.IsDigit);
        }

        var colon = lower.IndexOf(':');
        var isClock = colon is 1 or 2 && lower.Length == colon + 3 && lower.Remove(colon, 1).All(char.IsDigit);
        var hourOnly = lower.Length <= 2 && lower.All(char.IsDigit);
        if ((isClock || hourOnly) && i + 1 < tokens.Count && tokens[i + 1].IsWord)
        {
            var next = Lower(text, tokens[i + 1]);
            if (next is "am" or "pm" or "a.m" or "p.m")
            {
                end = i + 2;
                return true;
            }
        }

        return isClock;
    }

    private static int TryQuantity(string text, List<Token> tokens, int i, out Quantity quantity)
    {
        quantity = default;
        var first = i;
        string? currency = null;
        var t = tokens[i];
        if (t.Kind == TokenKind.Punct && i + 1 < tokens.Count && tokens[i + 1].Kind == TokenKind.Number)
        {
            currency = text[t.Start] switch { '$' => "USD", '€' => "EUR", '£' => "GBP", '¥' => "JPY", _ => null };
            if (currency is null)
            {
                return i;
            }

            i++;
        }
        else if (t.IsWord && t.Is(WordClass.CurrencyCode) && t.Has(TokenFlags.AllCaps) && i + 1 < tokens.Count && tokens[i + 1].Kind == TokenKind.Number)
        {
            currency = Lower(text, t).ToUpperInvariant();
            i++;
        }

        decimal value;
        string suffix;
        t = tokens[i];
        if (t.Kind == TokenKind.Number)
        {
            if (!ParseNumber(text.AsSpan(t.Start, t.Length), out value, out suffix))
            {
                return first;
            }
        }
        else if (t.IsWord && t.Is(WordClass.NumberWord) && !t.Is(WordClass.Article) && i + 1 < tokens.Count && tokens[i + 1].Is(WordClass.DurationUnit))
        {
            value = NumberValue(text, t) ?? 0;
            suffix = "";
        }
        else
        {
            return first;
        }

        var end = i + 1;
        // "5k" always means thousands; "5m" and "5b" only next to a currency ("5m" alone is as often five minutes).
        var magnitude = suffix.Length > 0 && (currency is not null || suffix is "k" or "K") ? Magnitude(suffix) : 1m;
        if (magnitude != 1)
        {
            suffix = "";
        }
        else if (suffix.Length == 0 && end < tokens.Count && tokens[end].IsWord && tokens[end].Is(WordClass.Magnitude) && (currency is not null || tokens[end].Length > 2))
        {
            magnitude = Magnitude(Lower(text, tokens[end]));
            end++;
        }

        value *= magnitude;
        var number = value.ToString("0.############", CultureInfo.InvariantCulture);
        var hasNext = end < tokens.Count;
        var next = hasNext ? tokens[end] : new Token(text.Length, 0, TokenKind.Punct, TokenFlags.None, WordClass.None, -1, -1);
        var nextLower = hasNext && next.Kind is TokenKind.Word or TokenKind.Punct ? Lower(text, next) : "";

        if (currency is null && (nextLower is "%" || next.IsWord && next.Is(WordClass.PercentWord)))
        {
            quantity = new Quantity(first, end + 1, ClaimValueKind.Percent, number + "%", "%");
            return end + 1;
        }

        if (currency is null && nextLower == "per" && end + 1 < tokens.Count && IsWord(text, tokens[end + 1], "cent"))
        {
            quantity = new Quantity(first, end + 2, ClaimValueKind.Percent, number + "%", "%");
            return end + 2;
        }

        if (currency is null && next.IsWord && next.Is(WordClass.CurrencyCode))
        {
            currency = nextLower switch { "dollars" or "dollar" or "bucks" => "USD", "euros" or "euro" => "EUR", _ => nextLower.ToUpperInvariant() };
            end++;
        }

        if (currency is not null)
        {
            quantity = new Quantity(first, end, ClaimValueKind.Money, $"{currency} {number}", currency);
            return end;
        }

        var unit = suffix.Length > 0 ? suffix.ToLowerInvariant() : next.IsWord && next.Is(WordClass.DurationUnit) ? nextLower : null;
        if (unit is not null && Duration(value, unit) is { } iso)
        {
            quantity = new Quantity(first, suffix.Length > 0 ? end : end + 1, ClaimValueKind.Duration, iso, Singular(unit));
            return quantity.End;
        }

        if (suffix.ToLowerInvariant() is "st" or "nd" or "rd" or "th")
        {
            // An ordinal ("3rd party") counts nothing.
            return first;
        }

        if (suffix.Length > 0 && suffix is not ("x" or "X"))
        {
            // "5kg", "10GB": the unit is glued to the number.
            quantity = new Quantity(first, end, ClaimValueKind.Number, $"{number} {suffix.ToLowerInvariant()}", suffix.ToLowerInvariant());
            return end;
        }

        if (next.IsWord && !next.Is(WordClass.FunctionWord) && !next.IsVerb && !next.Has(TokenFlags.Capitalized) && next.Has(TokenFlags.HasLetter))
        {
            var noun = Singular(nextLower);
            quantity = new Quantity(first, end + 1, ClaimValueKind.Number, $"{number} {noun}", noun);
            return end + 1;
        }

        quantity = new Quantity(first, end, ClaimValueKind.Number, number, null);
        return end;
    }

    private static decimal Magnitude(string suffix) => suffix.ToLowerInvariant() switch
    {
        "k" or "thousand" => 1_000m,
        "m" or "mm" or "mn" or "million" or "millions" => 1_000_000m,
        "b" or "bn" or "billion" or "billions" => 1_000_000_000m,
        _ => 1m
    };

    private static string? Duration(decimal value, string unit)
    {
        static string F(decimal v) => v.ToString("0.############", CultureInfo.InvariantCulture);
        return unit switch
        {
            "ms" or "millisecond" or "milliseconds" => $"PT{F(value / 1000)}S",
            "s" or "sec" or "secs" or "second" or "seconds" => $"PT{F(value)}S",
            "min" or "mins" or "minute" or "minutes" => $"PT{F(value)}M",
            "h" or "hr" or "hrs" or "hour" or "hours" => $"PT{F(value)}H",
            "d" or "day" or "days" => $"P{F(value)}D",
            "wk" or "wks" or "week" or "weeks" => $"P{F(value * 7)}D",
            "mo" or "mos" or "month" or "months" => $"P{F(value)}M",
            "y" or "yr" or "yrs" or "year" or "years" => $"P{F(value)}Y",
            _ => null
        };
    }

    /// <summary>"1,500.25", "5k", "3.5M", "200ms", "2nd": the value and any letters glued after it.</summary>
    private static bool ParseNumber(ReadOnlySpan<char> s, out decimal value, out string suffix)
    {
        value = 0;
        suffix = "";
        var digitsEnd = 0;
        while (digitsEnd < s.Length && (char.IsDigit(s[digitsEnd]) || (s[digitsEnd] is ',' or '.' && digitsEnd + 1 < s.Length && char.IsDigit(s[digitsEnd + 1]))))
        {
            digitsEnd++;
        }

        var rest = s[digitsEnd..];
        foreach (var c in rest)
        {
            if (!char.IsLetter(c))
            {
                return false;
            }
        }

        var digits = s[..digitsEnd];
        if (digits.IndexOf(',') >= 0)
        {
            // Thousands separators only: "1,500" (a decimal comma would be ambiguous, "1,5" is not taken).
            var groups = digits.ToString().Split('.')[0].Split(',');
            if (groups.Skip(1).Any(g => g.Length != 3))
            {
                return false;
            }
        }

        suffix = rest.ToString();
        return decimal.TryParse(digits, NumberStyles.AllowDecimalPoint | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out value);
    }

    public static decimal? NumberValue(string text, Token t)
    {
        if (t.Kind == TokenKind.Number)
        {
            return ParseNumber(text.AsSpan(t.Start, t.Length), out var v, out var suffix) && suffix.Length == 0 ? v : null;
        }

        return t.IsWord ? Lower(text, t) switch
        {
            "one" => 1, "two" => 2, "three" => 3, "four" => 4, "five" => 5, "six" => 6, "seven" => 7, "eight" => 8,
            "nine" => 9, "ten" => 10, "eleven" => 11, "twelve" => 12, _ => null
        } : null;
    }

    public static string Singular(string lower)
    {
        if (lower.Length > 4 && lower.EndsWith("ies", StringComparison.Ordinal))
        {
            return lower[..^3] + "y";
        }

        if (lower.Length > 4 && (lower.EndsWith("sses", StringComparison.Ordinal) || lower.EndsWith("xes", StringComparison.Ordinal)
            || lower.EndsWith("ches", StringComparison.Ordinal) || lower.EndsWith("shes", StringComparison.Ordinal)))
        {
            return lower[..^2];
        }

        if (lower.Length > 3 && lower[^1] == 's' && lower[^2] is not ('s' or 'u' or 'i'))
        {
            return lower[..^1];
        }

        return lower;
    }

    public static string Lower(string text, Token t) => text.Substring(t.Start, t.Length).ToLowerInvariant().Replace('\u2019', '\'');

    public static bool IsWord(string text, Token t, string lower) =>
        t.IsWord && text.AsSpan(t.Start, t.Length).Equals(lower, StringComparison.OrdinalIgnoreCase);
}
