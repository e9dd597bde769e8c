using System.Globalization;
using System.Text.RegularExpressions;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// The template wording of each gap type: titles, descriptions and questions built from the evidence itself, so a
/// question quotes what the team wrote ("Why did we decide to retire the legacy reporting API?"). This is the whole
/// wording without an LLM, and the fallback when one fails.
/// </summary>
public static partial class GapTemplates
{
    /// <summary>Where a quote comes from, for a description: "Fabrikam renewal notes, Lena Choi".</summary>
    public static string Source(GapEvidence evidence)
    {
        var (name, email) = GapRules.ParseAuthor(evidence.Author);
        var who = name ?? email;
        var title = GapRules.Phrase(evidence.DocumentTitle, 70);
        return who is null ? title : $"{title}, {who}";
    }

    public static GapText MissingRationale(string? agent, string? decided, string trigger, bool negated, GapEvidence evidence)
    {
        var quote = GapRules.Quote(evidence.Quote);
        var subject = string.IsNullOrWhiteSpace(agent) ? "we" : GapRules.Inline(GapRules.Phrase(agent, 60));
        string question;
        string about;
        if (decided is { Length: > 0 } thing)
        {
            about = GapRules.Inline(GapRules.Phrase(thing, 100));
            var verb = trigger.EndsWith(" to", StringComparison.OrdinalIgnoreCase) || trigger.EndsWith(" not to", StringComparison.OrdinalIgnoreCase)
                ? (negated ? "decide not to " : "decide to ")
                : trigger.EndsWith(" that", StringComparison.OrdinalIgnoreCase) ? "decide that " : (negated ? "decide against " : "choose ");
            question = $"Why did {subject} {verb}{about}?";
        }
        else
        {
            about = GapRules.Phrase(quote, 100);
            question = $"What was the reason for this decision: \"{quote}\"?";
        }

        return new GapText(
            $"Decision without a rationale: {about}",
            $"\"{quote}\" ({Source(evidence)}) records a decision but gives no reason, neither in that sentence, the next one, nor in any other decision about it.",
            [question, $"Which alternatives were considered before deciding to {about}, and who made the call?"]);
    }

    public static GapText MissingOwner(string process, string? frequency, GapEvidence evidence)
    {
        var quote = GapRules.Quote(evidence.Quote);
        var thing = GapRules.Inline(GapRules.Phrase(process, 100));
        var when = frequency is { Length: > 0 } f ? $" {GapRules.Phrase(f, 40)}" : "";
        return new GapText(
            $"No owner: {thing}",
            $"\"{quote}\" ({Source(evidence)}) describes a recurring process, but no document names who is responsible for {thing}.",
            [$"Who owns {thing}?", $"Who makes sure {thing} happens{when}, and who is the backup?"]);
    }

    public static GapText MissingTime(GapEvidence evidence)
    {
        var quote = GapRules.Quote(evidence.Quote);
        var clean = GapRules.Phrase(StripSpeaker(evidence.Quote), 300);
        var match = CommitmentClause().Match(clean);
        string question;
        string about;
        if (match.Success && match.Groups["rest"].Value.Trim().Length > 2)
        {
            var subject = GapRules.Inline(match.Groups["subj"].Value.Trim());
            var rest = GapRules.Phrase(match.Groups["rest"].Value, 120);
            about = $"{subject} {match.Groups["aux"].Value.Trim().ToLowerInvariant()} {rest}".Trim();
            question = subject.Length == 0 ? $"When will this happen: {rest}?" : $"When will {subject} {rest}?";
        }
        else
        {
            about = GapRules.Phrase(clean, 100);
            question = $"When will this happen: \"{GapRules.Phrase(clean, 200)}\"?";
        }

        return new GapText(
            $"No date: {GapRules.Phrase(about, 110)}",
            $"\"{quote}\" ({Source(evidence)}) commits to something without saying when, and no date or deadline is given for it.",
            [question, "Is there a deadline or target date, and who is tracking it?"]);
    }

    public static GapText UndefinedTerm(string term, long mentions, long documents, IReadOnlyList<GapEvidence> evidence)
    {
        var example = evidence.Count > 0 ? $" (e.g. \"{GapRules.Quote(evidence[0].Quote, 200)}\", {Source(evidence[0])})" : "";
        return new GapText(
            $"Undefined term: {term}",
            $"\"{term}\" is used {mentions.ToString(CultureInfo.InvariantCulture)} times in {documents.ToString(CultureInfo.InvariantCulture)} documents{example}, but it is never defined or spelled out and the glossary does not list it.",
            [$"What does {term} stand for?", $"What does {term} involve, and who is responsible for it?"]);
    }

    public static GapText ValueContradiction(string subject, IReadOnlyList<(string Value, GapEvidence Evidence)> sides)
    {
        var about = GapRules.Inline(GapRules.Phrase(subject, 100));
        var values = sides.Select(s => s.Value).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var claims = string.Join(" but ", sides.Select(s => $"\"{GapRules.Quote(s.Evidence.Quote, 200)}\" ({Source(s.Evidence)})"));
        var choice = values.Count == 2 ? $"{values[0]} or {values[1]}" : string.Join(", ", values.SkipLast(1)) + " or " + values[^1];
        return new GapText(
            $"Contradiction: {about} ({string.Join(" vs ", values)})",
            $"Documents disagree about {about}: {claims}.",
            [$"Which is correct for {about}: {choice}?", "Which of these documents should be corrected, and who confirms the right value?"]);
    }

    public static GapText PolarityContradiction(string statement, GapEvidence affirms, GapEvidence denies)
    {
        var yes = GapRules.Quote(affirms.Quote, 200);
        var no = GapRules.Quote(denies.Quote, 200);
        var claim = GapRules.Phrase(StripSpeaker(affirms.Quote), 150);
        return new GapText(
            $"Contradiction: {GapRules.Phrase(statement, 110)}",
            $"\"{yes}\" ({Source(affirms)}) contradicts \"{no}\" ({Source(denies)}).",
            [$"Which is true: \"{claim}\" or \"{GapRules.Phrase(StripSpeaker(denies.Quote), 150)}\"?", "Which of these documents should be corrected, and who confirms it?"]);
    }

    public static GapText SingleSource(IReadOnlyList<GapEvidence> evidence, string? holder)
    {
        var first = evidence[0];
        var quote = GapRules.Phrase(StripSpeaker(first.Quote), 300);
        var who = holder ?? GapRules.ParseAuthor(first.Author) switch { (string name, _) => name, (_, string email) => email, _ => null };
        var topic = Topic(quote);
        var asks = new List<string>();
        asks.Add(who is null
            ? $"Who else knows {topic}, and where should it be documented besides \"{GapRules.Phrase(first.DocumentTitle, 70)}\"?"
            : $"Who besides {who} knows {topic}, and where should it be documented?");
        asks.Add($"Is this still accurate: \"{GapRules.Phrase(quote, 200)}\"?");
        return new GapText(
            $"Single source: {GapRules.Phrase(quote, 100)}",
            $"Only one document records this ({Source(first)}); nothing else restates it, so it lives with {(who ?? "one author")}: \"{quote}\""
                + (evidence.Count > 1 ? $" (and {evidence.Count - 1} more such sentence{(evidence.Count > 2 ? "s" : "")} in the same document)." : "."),
            asks);
    }

    public static GapText BusFactor(string person, IReadOnlyList<string> items)
    {
        var listed = items.Take(8).Select(i => GapRules.Inline(GapRules.Phrase(i, 60))).ToList();
        var list = listed.Count <= 1 ? string.Join("", listed) : string.Join(", ", listed.SkipLast(1)) + " and " + listed[^1];
        var top = listed.Take(3).ToList();
        var topList = top.Count <= 1 ? string.Join("", top) : string.Join(", ", top.SkipLast(1)) + " and " + top[^1];
        return new GapText(
            $"Bus factor: {person} alone owns {items.Count} things",
            $"{person} is the only named owner of {items.Count} items: {list}{(items.Count > listed.Count ? ", ..." : "")}. Nobody else is on record for them if {person} is unavailable.",
            [$"Who can back up {person} on {topList}?", $"Which of {person}'s {items.Count} responsibilities have written handover notes?"]);
    }

    public static GapText UnansweredQuestion(string question, string? asker, GapEvidence evidence, DateTimeOffset? askedAt)
    {
        var asked = GapRules.Phrase(StripSpeaker(question), 300);
        var who = asker ?? GapRules.ParseAuthor(evidence.Author) switch { (string name, _) => name, (_, string email) => email, _ => "Someone" };
        var when = askedAt is { } at ? $" on {at.ToString("MMMM d, yyyy", CultureInfo.InvariantCulture)}" : "";
        return new GapText(
            $"Unanswered: {GapRules.Phrase(asked, 110)}",
            $"{who} asked \"{asked}\" in \"{GapRules.Phrase(evidence.DocumentTitle, 80)}\"{when}, and nobody has replied.",
            [asked.EndsWith('?') ? asked : asked + "?"]);
    }

    /// <summary>What a single-source sentence is about, for a question: "how to rotate the Stripe webhook secret".</summary>
    internal static string Topic(string sentence)
    {
        var procedure = ProcedureClause().Match(sentence);
        if (procedure.Success)
        {
            return "how to " + GapRules.Phrase(procedure.Groups[1].Value, 90);
        }

        var stored = StoredClause().Match(sentence);
        if (stored.Success)
        {
            return "where " + GapRules.Inline(GapRules.Phrase(stored.Groups[1].Value, 90)) + " " + stored.Groups[2].Value.ToLowerInvariant() + " " + stored.Groups[3].Value.ToLowerInvariant();
        }

        return "this";
    }

    private static string StripSpeaker(string text) => SpeakerPrefix().Replace(text.Trim(), "");

    [GeneratedRegex(@"^(?:[\p{Lu}][\p{L}'.-]*\s?){1,4}:\s+", RegexOptions.NonBacktracking)]
    private static partial Regex SpeakerPrefix();

    [GeneratedRegex(@"^(?<subj>.*?)\b(?<aux>will|shall|is going to|are going to|am going to|plans? to|planned to|intends? to|aims? to)\s+(?<rest>.+?)(?:,?\s+\b(?:because|since|so that|as soon as|in order to|due to|once|after)\b.*)?[.!]?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex CommitmentClause();

    [GeneratedRegex(@"^\s*(?:to|in order to)\s+([^,]+),", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex ProcedureClause();

    [GeneratedRegex(@"^(.+?)\s+(is|are)\s+(stored|kept|located|saved|documented)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex StoredClause();
}
