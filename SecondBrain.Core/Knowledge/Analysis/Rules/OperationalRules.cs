using System.Text.RegularExpressions;

namespace SecondBrain.Core.Knowledge.Analysis.Rules;

/// <summary>
/// Operational knowledge that should not live in one message: where a secret, credential or unique original is kept
/// ("the recovery codes ... sit in the fire cabinet", "the passphrase only lives in my password manager", "the only
/// signed copy is in my desk drawer", "credentials are stored in the vault"), and the steps of a procedure written as
/// instructions ("Run ./failover.sh ...", "In the console, promote the replica", "Click "Manual override", choose ...",
/// "To rotate the secret, create ..."). A mention of a password without where it is kept, or a description of how users
/// sign in, is neither.
/// </summary>
public static partial class OperationalRules
{
    public static bool IsOperational(string sentence)
    {
        var text = GapRules.StripSpeaker(sentence).Trim();
        if (GapRules.IsQuestion(text) || GapRules.IsHeaderLine(text) || text.StartsWith('|') || text.Length is < 25 or > 600)
        {
            return false;
        }

        return (Keepable().IsMatch(text) && KeptIn().IsMatch(text)) || OnlyCopy().IsMatch(text) || Instruction().IsMatch(text) || ProcedureLead().IsMatch(text)
            || GapRules.IsProcedure(text);
    }

    public static bool MentionsSecrets(string sentence) => Keepable().IsMatch(sentence);

    [GeneratedRegex(@"\b(credentials?|passwords?|passphrases?|secrets?|api[ -]?keys?|private\s+keys?|ssh\s+keys?|access\s+keys?|recovery\s+(codes?|phrases?|keys?)|seed\s+phrases?|pin(\s+codes?)?|combination|break[- ]glass|tokens?|certificates?|keys?)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Keepable();

    [GeneratedRegex(@"\b(is|are)\s+(stored|kept|located|saved|printed|locked)\b|\b(sits?|lives?|lie|lies)\s+(only\s+)?(in|on|at|under)\b|\b(are|is)\s+printed\b|\bin\s+(my|his|her|the)\s+(personal\s+)?(password manager|vault|drawer|safe|cabinet|locker|desk)\b|\bonly\s+(lives?|exists?|sits?)\b"
        // "is in a sealed envelope in the Headingley safe", "is written on the inside cover of the red DR binder".
        + @"|\b(is|are)\s+(written|noted|taped|stuck|pinned|filed)\s+(down\s+)?(on|in|inside|under|behind)\b"
        + @"|\b(is|are)\s+(kept\s+)?in\s+(a|an|the|my|our|his|her|their)\s+([\w-]+\s+){0,3}(password manager|vault|drawer|safe|cabinet|locker|desk|envelope|binder|folder|notebook|cupboard|box|tin|wallet)\b"
        + @"|\bin\s+(a|an|the|my|our|his|her|their)\s+([\w-]+\s+){0,3}(password manager|vault|drawer|safe|cabinet|locker|envelope|binder|cupboard)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex KeptIn();

    [GeneratedRegex(@"\bthe only (signed |original |paper |physical |remaining )?(copy|original|backup|record)\b|\bonly (one|a single) (copy|original)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex OnlyCopy();

    // A procedure announced in a message: "here are the steps for restoring ...", "this is how to put the number on divert".
    [GeneratedRegex(@"\b(here are|these are|below are|follow) the (\w+\s+)?steps\b|\b(this|here)\s+is\s+how\s+(to|you)\b|\bhere'?s\s+how\s+(to|you)\b|\bhere’s\s+how\s+(to|you)\b|\bthe steps (to|for)\s+[a-z]+ing\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex ProcedureLead();

    // An instruction: an operation verb in the imperative opening the sentence (after a step number or a "In the X console," lead)
    // with something operable after it (a console, a button, a script, a quoted label, a path, an arrow).
    [GeneratedRegex(@"^(\d+[.)]\s*|step \d+:?\s*|in the [^,]{2,40},\s*|then\s+|first,?\s+|next,?\s+)?(click|run|promote|switch|restart|select|choose|paste|enter|press|execute|type|log ?in to|navigate to|go to|open the|fail over|failover|rotate|revoke|reset|copy|upload|download|set|update|point)\b[^.]{0,200}(console|button|menu|script|\.sh\b|\./|""|“|→|->|`|\bcli\b|dashboard|tab\b|field|repo\b|command)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Instruction();
}
