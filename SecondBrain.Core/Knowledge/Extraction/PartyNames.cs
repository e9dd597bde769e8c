using System.Collections.Frozen;
using System.Text;

namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>
/// Who a header party is: a person, an organisation (a name with a company suffix, "Northwind Labs", "Fjordbank
/// ASA"), or neither (a role mailbox such as support@ or a group such as "All staff"); and the organisation an e-mail
/// address belongs to, from its domain (not for public mail providers). Organisation names compare by a compact key:
/// letters and digits only, legal form dropped, so "Halvorsen Freight AS", "Halvorsen Freight B.V." and the domain
/// halvorsenfreight.com meet.
/// </summary>
public static class PartyNames
{
    private static readonly FrozenSet<string> RoleMailboxes = FrozenSet.Create(StringComparer.Ordinal,
        "support", "info", "help", "helpdesk", "hello", "contact", "sales", "admin", "office", "team", "all", "everyone", "staff", "noreply", "no-reply",
        "donotreply", "do-not-reply", "notifications", "notification", "alerts", "billing", "accounts", "accounting", "invoices", "finance", "hr", "jobs",
        "careers", "legal", "security", "privacy", "ops", "operations", "it", "engineering", "dev", "devops", "service", "services", "customerservice",
        "enquiries", "inquiries", "press", "marketing", "orders", "booking", "bookings", "reception", "dispo", "dispatch", "mail", "postmaster", "webmaster",
        "root", "system", "bot", "robot", "newsletter", "news", "reply", "feedback", "abuse", "compliance", "procurement", "purchasing", "payroll", "board");

    private static readonly FrozenSet<string> GroupWords = FrozenSet.Create(StringComparer.Ordinal,
        "all", "staff", "team", "everyone", "employees", "colleagues", "department", "support", "sales", "engineering", "finance", "operations", "office",
        "helpdesk", "desk", "service", "services", "notifications", "group", "list", "mailing", "board", "management", "leadership", "customers", "partners");

    private static readonly FrozenSet<string> PublicMailDomains = FrozenSet.Create(StringComparer.Ordinal,
        "gmail", "googlemail", "outlook", "hotmail", "live", "msn", "yahoo", "ymail", "icloud", "me", "mac", "aol", "proton", "protonmail", "pm", "gmx",
        "web", "mail", "yandex", "zoho", "fastmail", "hey", "tutanota", "qq", "163", "126", "example", "localhost");

    private static readonly FrozenSet<string> LegalForms = FrozenSet.Create(StringComparer.Ordinal,
        "inc", "corp", "corporation", "llc", "ltd", "limited", "gmbh", "ag", "plc", "llp", "lp", "co", "sa", "nv", "bv", "pty", "srl", "as", "asa", "ab",
        "oy", "oyj", "aps", "kg", "sas", "sarl", "spa", "pte", "bhd", "kk", "se");

    /// <summary>A mailbox of a function, not a person: support@, info@, "All staff &lt;all@...&gt;".</summary>
    public static bool IsRoleMailbox(string? name, string? email)
    {
        if (name is { Length: > 0 } display)
        {
            var words = Words(display);
            if (words.Count > 0 && words.All(w => GroupWords.Contains(w) || RoleMailboxes.Contains(w)))
            {
                return true;
            }

            return false;
        }

        var local = email?.Split('@')[0].ToLowerInvariant();
        return local is { Length: > 0 } && (RoleMailboxes.Contains(local) || local.Split('.', '-', '_').All(p => RoleMailboxes.Contains(p)));
    }

    /// <summary>"Northwind Labs", "Fjordbank ASA", "Baltic Bridge Forwarding GmbH": a name that ends with a company suffix.</summary>
    public static bool IsOrganisationName(string? name)
    {
        if (name is not { Length: > 0 })
        {
            return false;
        }

        var words = name.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 2)
        {
            return false;
        }

        var last = words[^1].Trim('.', ',').ToLowerInvariant();
        return WordLists.Is(last, WordClass.OrgSuffix) || LegalForms.Contains(last.Replace(".", "", StringComparison.Ordinal))
            || words[^1].Replace(".", "", StringComparison.Ordinal) is "BV" or "NV";
    }

    /// <summary>The organisation's domain of an address ("halvorsenfreight.com"), or null for public mail providers.</summary>
    public static string? Domain(string? email)
    {
        var at = email?.LastIndexOf('@') ?? -1;
        if (at < 0)
        {
            return null;
        }

        var domain = email![(at + 1)..].Trim().TrimEnd('>').ToLowerInvariant();
        var labels = domain.Split('.', StringSplitOptions.RemoveEmptyEntries);
        if (labels.Length < 2)
        {
            return null;
        }

        // mail.example.com, eu.company.co.uk: the registrable label is the last one before the public suffix.
        var stem = DomainStem(domain);
        return stem is null || PublicMailDomains.Contains(stem) || domain.EndsWith(".local", StringComparison.Ordinal) ? null : domain;
    }

    /// <summary>"halvorsenfreight" of halvorsenfreight.com, "degraaf-logistics" of degraaf-logistics.nl, "acme" of mail.acme.co.uk.</summary>
    public static string? DomainStem(string domain)
    {
        var labels = domain.Split('.', StringSplitOptions.RemoveEmptyEntries);
        if (labels.Length < 2)
        {
            return null;
        }

        var i = labels.Length - 2;
        if (i > 0 && labels[i] is "co" or "com" or "org" or "net" or "ac" or "gov" or "edu" && labels[^1].Length == 2)
        {
            i--;
        }

        return labels[i];
    }

    /// <summary>The compact key organisations compare by: letters and digits only, accents and legal forms dropped.</summary>
    public static string CompactKey(string name)
    {
        var text = name.Trim();
        if (!text.Contains(' ', StringComparison.Ordinal) && text.Contains('.', StringComparison.Ordinal) && Domain("x@" + text) is { } domain)
        {
            text = DomainStem(domain) ?? text;
        }

        var words = Words(text);
        while (words.Count > 1 && LegalForms.Contains(words[^1]))
        {
            words.RemoveAt(words.Count - 1);
        }

        return string.Concat(words);
    }

    private static List<string> Words(string text)
    {
        var builder = new StringBuilder();
        foreach (var ch in text.Normalize(NormalizationForm.FormD))
        {
            if (System.Globalization.CharUnicodeInfo.GetUnicodeCategory(ch) == System.Globalization.UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            builder.Append(char.IsLetterOrDigit(ch) ? char.ToLowerInvariant(ch) : ch is '.' ? '\0' : ' ');
        }

        // "B.V." is one word ("bv"): dots join, everything else separates.
        return builder.ToString().Replace("\0", "", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
    }
}
