using System.Text.RegularExpressions;
using SecondBrain.Core.Common;

namespace SecondBrain.Core.Knowledge.Analysis.Rules;

/// <summary>
/// Plans and when they happen. A plan says what will be done ("we will", "is going to", "plan to", "will eventually");
/// it is missing a time when it names none, or only a vague one ("soon", "at some point", "down the road") or an event
/// instead of a date ("after the second hire starts", "once the integrations have moved", "when hiring picks up"). A
/// plan of the team or of a thing (a product, a model, an API) counts; one person's "I'll send it" is an errand, not a
/// plan, unless it is conditioned the same way. A date given right after it, or later in the same conversation about the
/// same thing, is its time.
/// </summary>
public static partial class PlanRules
{
    public static bool IsPlan(string sentence) =>
        !GapRules.IsQuestion(sentence) && !GapRules.IsHeaderLine(sentence) && SafeRegex.Match(Commitment(), Clause(sentence)) is { Success: true } match
        && !StateNotAction().IsMatch(Clause(sentence)[match.Index..]);

    /// <summary>The plan is the team's ("we", "our team") rather than one person's ("I'll", "you will").</summary>
    public static bool IsTeamOrThingPlan(string sentence)
    {
        var match = SafeRegex.Match(Commitment(), Clause(sentence));
        if (!match.Success)
        {
            return false;
        }

        var before = Clause(sentence)[..match.Index].TrimEnd();
        return !PersonalSubject().IsMatch(before) && !PersonalSubject().IsMatch(match.Value.Split('\'', '’', ' ')[0])
            && !(before.Length == 0 && match.Value.StartsWith("going", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>"soon", "at some point", "eventually", "down the road", "after X starts", "once X", "when X picks up".</summary>
    public static bool HasVagueTime(string sentence) => VagueTime().IsMatch(sentence);

    /// <summary>A date, month, weekday, quarter or relative deadline ("next week", "in two weeks").</summary>
    public static bool HasConcreteTime(string sentence) =>
        (GapRules.HasTimeExpression(sentence) && !SafeRegex.IsMatch(OnlyVagueDateWords(), sentence)) || SafeRegex.IsMatch(DayAlreadySet(), sentence);

    /// <summary>The sentence opens with its time ("By Friday 27 March.", "Target: 9 February"): a reply saying when.</summary>
    public static bool StartsWithTime(string sentence)
    {
        var clause = Clause(sentence).TrimStart();
        return HasConcreteTime(clause[..Math.Min(clause.Length, 40)]) && LeadingTime().IsMatch(clause);
    }

    /// <summary>
    /// A plan missing its time: a team or thing plan with no concrete time, or any plan whose only time is vague or an
    /// event.
    /// </summary>
    public static bool MissesTime(string sentence) =>
        !HasConcreteTime(sentence) && !Hypothetical().IsMatch(sentence)
        && ((IsPlan(sentence) && (IsTeamOrThingPlan(sentence) || HasVagueTime(sentence)))
            // Minutes and lists say plans without a verb of the future: "Guest Wi-Fi to be split off down the road".
            || (HasVagueTime(sentence) && !GapRules.IsQuestion(sentence) && SafeRegex.IsMatch(InfinitivePlan(), Clause(sentence))));

    /// <summary>Content words, lower case, for "is this later sentence about the same thing" checks.</summary>
    public static HashSet<string> ContentWords(string sentence) =>
        [.. Word().Matches(sentence.ToLowerInvariant()).Select(m => m.Value).Where(w => w.Length >= 4 && !StopWords.Contains(w))];

    /// <summary>Shared words, a word also matching its longer form ("cert" and "certificate").</summary>
    public static int Shared(HashSet<string> a, HashSet<string> b) =>
        a.Count(x => b.Any(y => x == y || (x.Length >= 4 && y.StartsWith(x, StringComparison.Ordinal)) || (y.Length >= 4 && x.StartsWith(y, StringComparison.Ordinal))));

    private static string Clause(string sentence) => GapRules.StripSpeaker(sentence);

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "will", "would", "going", "goes", "went", "plan", "plans", "planned", "that", "this", "with", "from", "them", "they", "their", "there", "then",
        "have", "been", "into", "onto", "over", "also", "just", "than", "when", "once", "after", "before", "until", "about", "what", "which", "where",
        "your", "ours", "more", "some", "next", "week", "month", "year", "today", "tomorrow", "great", "thanks", "please", "still", "again", "only",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    };

    [GeneratedRegex(@"\b(will|shall)\s+(?!not\b)(\w+\s+)?\w+|\w'll\s+\w+|\b(am|is|are|'re|’re|'m|’m)\s+going\s+to\s+\w+|^\s*going\s+to\s+\w+|\b(plans?|planning|intends?|intending|aims?|aiming)\s+to\s+\w+|\b(plan|idea|intention|aim|goal)\s+is\s+to\s+\w+",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: SafeRegex.TimeoutMilliseconds)]
    private static partial Regex Commitment();

    // "will be your contact", "will be the owner": a state described, not something to be done.
    // "will still need a second approver", "will require two signatures": a rule that holds, not a step to take.
    [GeneratedRegex(@"^(will|shall|'ll|’ll)\s+be\s+(your|the|a|an|our|my|his|her|their|in|on|at|available|able|happy|glad|fine|ok|there|here)\b"
        + @"|^(will|shall|'ll|’ll)\s+(still\s+|also\s+|always\s+|then\s+|now\s+)?(need|needs|require|requires)\s+(a|an|the|your|our|their|two|three|\d|\p{Sc})"
        + @"|^(will|shall|'ll|’ll)\s+(still\s+|also\s+|always\s+)?(apply|remain|stay|continue|cost|mean)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex StateNotAction();

    [GeneratedRegex(@"(^|\b)(i|you|he|she)$|\b(i|you)\s*$|^(i|you)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex PersonalSubject();

    [GeneratedRegex(
        @"\b(soon|eventually|at some point|some day|someday|one day|down the road|in the future|in future|sooner or later|later on|at a later (date|stage|point)|in due course|when (the )?time (allows|permits)|not yet (planned|scheduled))\b"
        + @"|\b(when|once|after|as soon as)\s+(the|we|it|they|our|a|an|hiring|budget|funding|capacity|all|every)\b[^.;]{0,80}?\b(starts?|started|picks up|is|are|has|have|gets?|joins?|arrives?|ready|done|finished|signs?|signed|moved|allows?|frees? up|comes? in|lands?)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex VagueTime();

    // "later this year" is a time; "a later stage" is not, and neither is "for now".
    [GeneratedRegex(@"^(?!.*\b(19|20)\d{2}\b)(?!.*\b\d{1,2}\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))(?=.*\bfor now\b)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: SafeRegex.TimeoutMilliseconds)]
    private static partial Regex OnlyVagueDateWords();

    // "on the day", "that evening": the time of an event the conversation has already dated.
    [GeneratedRegex(@"\b(on|that|the same|on the same)\s+(the\s+)?(day|night|evening|morning|afternoon)\b(?!\s+(of|before|after))", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: SafeRegex.TimeoutMilliseconds)]
    private static partial Regex DayAlreadySet();

    [GeneratedRegex(@"^(by|on|from|starting|until|before|target(ed)?|planned for|scheduled for|due|eta|expected|aiming for|in|within|next|this|end of|early|mid|late|\d|january|february|march|april|may|june|july|august|september|october|november|december|monday|tuesday|wednesday|thursday|friday)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex LeadingTime();

    // A subject, then "to be" and a participle at the start of a clause or bullet: "Guest Wi-Fi to be split off".
    [GeneratedRegex(@"^[^.;:?!]{2,80}?\s+to\s+be\s+[a-z]+(ed|en|wn|ne|nt|ld|pt|ut|it|un|id|set|put)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex InfinitivePlan();

    [GeneratedRegex(@"^\s*(if|unless|whether)\b|\bwould\b|\bcould\b|\bmight\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Hypothetical();

    [GeneratedRegex(@"[\p{L}\p{N}][\p{L}\p{N}\-]*", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Word();
}
