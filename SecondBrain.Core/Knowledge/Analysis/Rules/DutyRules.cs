using System.Text.RegularExpressions;

namespace SecondBrain.Core.Knowledge.Analysis.Rules;

/// <summary>
/// Recurring duties. A duty recurs ("every 90 days", "every January and July", "after every P1 incident", "nightly",
/// "each quarter") and is stated as something that has to happen to a thing rather than something a person does:
/// an obligation in the passive ("has to be reloaded", "must be renewed"), a present passive ("is published", "are
/// re-screened"), or a thing as the subject of a recurring verb ("the certificate renewal happens", "the domains
/// renew", "the refresh runs"). It names its owner when the sentence has one: a person, a first-person speaker ("I
/// run the backups"), "by Tomasz", "(Marit)". Reports of what happened ("ran late", "was published") and prices
/// ("billed annually") are not duties.
/// </summary>
public static partial class DutyRules
{
    public static bool IsDuty(string sentence)
    {
        var text = GapRules.StripSpeaker(sentence);
        if (GapRules.IsQuestion(text) || GapRules.IsHeaderLine(text) || text.TrimStart().StartsWith('|') || text.Length > 400 || Pricing().IsMatch(text))
        {
            return false;
        }

        // Judged clause by clause: "X is supposed to be reviewed every quarter, and last year there was no evidence"
        // states a duty in its first clause; the report in the second is about something else.
        return Clauses().Split(text).Any(clause => Recurrence().IsMatch(clause)
            && (Obligation().IsMatch(clause) || ThingObligation().IsMatch(clause) || ThingRecurs().IsMatch(clause)) && !Report().IsMatch(clause));
    }

    /// <summary>The sentence itself says who: a first- or second-person doer, "by Name", a parenthesised name.</summary>
    public static bool NamesOwner(string sentence)
    {
        var text = GapRules.StripSpeaker(sentence);
        return PersonalDoer().IsMatch(text) || ByName().IsMatch(text) || NameInParentheses().IsMatch(text) || ByRole().IsMatch(text);
    }

    [GeneratedRegex(@"\b(every|each)\s+(\d+\s+|(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen|few|couple of)\s+)?(other\s+|second\s+|third\s+)?(day|days|week|weeks|month|months|quarter|quarters|year|years|morning|evening|night|weekday|working day|business day|release|sprint|cycle|shift|hour|hours|minute|minutes|monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|august|september|october|november|december|spring|summer|autumn|fall|winter|time)\b|\b(daily|weekly|fortnightly|biweekly|bi-weekly|monthly|quarterly|yearly|annually|nightly|hourly)\b|\b(once|twice|three times)\s+(a|per|every)\s+\w+|\bafter every\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Recurrence();

    [GeneratedRegex(@"\b(has|have|needs?|must|should|shall|is|are|gets?|will)\s+(to\s+)?(be\s+|get\s+)?(re-?)?[a-z]+(ed|en|wn|ne|nt|ld|pt|un|id)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Obligation();

    // "it has to go on every Friday", "the banner needs to come off": an obligation of a thing with a plain verb.
    [GeneratedRegex(@"\b(it|this|that|they|these|those|the\s+[\w-]+(\s+[\w-]+){0,3})\s+(has|have|needs?|must|should)\s+(to\s+)?(go|come|happen|run|stay|start|stop|change|switch|move|roll|turn|be\s+\w+)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex ThingObligation();

    [GeneratedRegex(@"\s*(?:;|:|,\s+(?:and|but|so|while|although|though)\s+|\s+but\s+|\s+-\s+|\s+–\s+)\s*", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Clauses();

    [GeneratedRegex(@"\b(happens?|runs?|renews?|expires?|rotates?|reloads?|recurs?|repeats?|occurs?|takes place|is due|are due|falls? due|comes? up)\b\s+(\w+\s+){0,4}?(every|each|daily|weekly|monthly|quarterly|yearly|annually|nightly|twice|once)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex ThingRecurs();

    [GeneratedRegex(@"\b(billed|invoiced|charged|priced|costs?|per (month|year|seat|user|message)|subscription|fee|price)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Pricing();

    [GeneratedRegex(@"\b(was|were|had been|ran|went|happened|failed|broke)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Report();

    [GeneratedRegex(@"(^|[^\p{L}])(I|I'm|I'll|I've|we|we'll|we're|my|our team|you|he|she|He|She|he'll|she'll|He'll|She'll)([^\p{L}]|$)", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex PersonalDoer();

    [GeneratedRegex(@"\b(by|owner:?|owned by|responsible:?)\s+(Dr\.?\s+)?\p{Lu}\p{Ll}+(\s+\p{Lu}\p{Ll}+)?\b", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex ByName();

    // "reviewed every May by the policy owner": the owner is a role the documents name elsewhere.
    [GeneratedRegex(@"\bby\s+(the|our|its|their)\s+([\w-]+\s+){0,2}(owner|lead|manager|team|officer|administrator|admin|coordinator|department)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex ByRole();

    [GeneratedRegex(@"\(\s*\p{Lu}\p{Ll}+(\s+\p{Lu}\p{Ll}+)?(\s*,\s*\p{Lu}\p{Ll}+(\s+\p{Lu}\p{Ll}+)?)*\s*\)", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex NameInParentheses();
}
