using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;

namespace SecondBrain.Core.Common;

/// <summary>
/// The rule for regexes that see document text: they run on the non-backtracking engine
/// (<see cref="RegexOptions.NonBacktracking"/>: linear in the input, so no text can make them slow), and the few whose
/// pattern needs the backtracking engine (lookarounds) carry <see cref="TimeoutMilliseconds"/> and are called through
/// these helpers, which turn a timeout into the degraded answer for that one text (no match) instead of an
/// exception that would fail the document or the batch. Timeouts are counted (<c>secondbrain.regex.timeouts</c>).
/// </summary>
public static class SafeRegex
{
    /// <summary>Far above what a regex needs for any sentence, far below a batch's lease.</summary>
    public const int TimeoutMilliseconds = 250;

    public const string MeterName = "SecondBrain.Text";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Timeouts = Meter.CreateCounter<long>("secondbrain.regex.timeouts", description: "Regex matches over document text abandoned at their timeout");

    /// <summary>Whether <paramref name="regex"/> matches; <paramref name="onTimeout"/> when it ran out of time.</summary>
    public static bool IsMatch(Regex regex, string input, bool onTimeout = false)
    {
        try
        {
            return regex.IsMatch(input);
        }
        catch (RegexMatchTimeoutException)
        {
            Timeouts.Add(1);
            return onTimeout;
        }
    }

    /// <summary>The first match; <see cref="System.Text.RegularExpressions.Match.Empty"/> when it ran out of time.</summary>
    public static Match Match(Regex regex, string input)
    {
        try
        {
            return regex.Match(input);
        }
        catch (RegexMatchTimeoutException)
        {
            Timeouts.Add(1);
            return System.Text.RegularExpressions.Match.Empty;
        }
    }

    /// <summary>Every match, found eagerly so a timeout cannot escape from a later enumeration; none when it ran out of time.</summary>
    public static IReadOnlyList<Match> Matches(Regex regex, string input)
    {
        try
        {
            var matches = new List<Match>();
            foreach (Match match in regex.Matches(input))
            {
                matches.Add(match);
            }

            return matches;
        }
        catch (RegexMatchTimeoutException)
        {
            Timeouts.Add(1);
            return [];
        }
    }

    /// <summary>The pieces between matches; the whole input as one piece when it ran out of time.</summary>
    public static string[] Split(Regex regex, string input)
    {
        try
        {
            return regex.Split(input);
        }
        catch (RegexMatchTimeoutException)
        {
            Timeouts.Add(1);
            return [input];
        }
    }
}
