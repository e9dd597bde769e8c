using System.Collections.Frozen;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// Acronyms any professional reader knows without a glossary (VPN, ISO, SLA, KYC, CSV...), currency and country codes,
/// legal forms and everyday shorthand: using them undefined is not a knowledge gap. A team's own acronyms and codes
/// (DCQ, KLV, PX-3) are what the undefined-term detector is for, and they are never in this list.
/// </summary>
public static class KnownAcronyms
{
    public static readonly FrozenSet<string> All = FrozenSet.Create(StringComparer.Ordinal,
    [
        // Everyday and business shorthand.
        "ok", "fyi", "asap", "eta", "tbd", "tba", "n/a", "na", "aka", "etc", "ie", "eg", "vs", "ps", "re", "fw", "fwd", "cc", "bcc", "rsvp", "diy",
        "eod", "eow", "eom", "eoq", "eoy", "ooo", "wfh", "pto", "dm", "am", "pm", "q1", "q2", "q3", "q4", "h1", "h2", "fy", "ytd", "mtd", "qoq", "yoy",
        "ceo", "cfo", "cto", "coo", "cio", "ciso", "cmo", "cpo", "cro", "vp", "svp", "evp", "md", "hr", "pr", "it", "qa", "r&d", "pa", "ea",
        "kpi", "okr", "roi", "sla", "slo", "sli", "nda", "msa", "sow", "rfp", "rfq", "rfi", "po", "pos", "b2b", "b2c", "crm", "erp", "saas", "paas",
        "iaas", "p&l", "ebitda", "capex", "opex", "arr", "mrr", "cac", "ltv", "nps", "csat", "gmv", "aov", "faq", "tos", "sop", "poc", "mvp", "gtm",
        "vat", "gst", "tax", "iban", "bic", "swift", "sepa", "ach", "kyc", "aml", "gdpr", "ccpa", "hipaa", "sox", "soc", "soc2", "iso", "pci", "dss",
        "nis2", "dpo", "dpia", "ip", "llm", "ai", "ml", "nlp", "ocr", "bi", "etl", "elt", "dwh", "kyb", "ein", "ssn", "dob",
        // Technology.
        "api", "apis", "sdk", "cli", "gui", "ui", "ux", "url", "uri", "urn", "http", "https", "html", "css", "js", "json", "xml", "yaml", "csv", "tsv",
        "pdf", "png", "jpg", "jpeg", "gif", "svg", "zip", "sql", "nosql", "db", "dba", "os", "ios", "cpu", "gpu", "ram", "ssd", "hdd", "usb", "lan",
        "wan", "wifi", "vpn", "dns", "cdn", "tcp", "udp", "tls", "ssl", "ssh", "sftp", "ftp", "ftps", "smtp", "imap", "pop3", "mx", "spf", "dkim",
        "dmarc", "sso", "saml", "oauth", "oidc", "ldap", "ad", "mfa", "2fa", "otp", "pin", "rbac", "iam", "jwt", "aes", "rsa", "sha", "md5", "pgp",
        "gpg", "pki", "csr", "ca", "vm", "vms", "k8s", "aws", "gcp", "azure", "ec2", "s3", "rds", "iot", "qr", "rfid", "nfc", "gps", "sms", "mms",
        "voip", "pbx", "crm", "cms", "seo", "sem", "ppc", "ci", "cd", "ci/cd", "uat", "sit", "e2e", "qa", "sre", "devops", "mttr", "mtbf", "rca",
        "edi", "as2", "rest", "soap", "grpc", "ws", "wss", "utf", "utf-8", "ascii", "xlsx", "docx", "pptx", "doc", "xls", "ppt", "txt", "md", "id",
        "ids", "uuid", "guid", "ip", "ipv4", "ipv6", "nat", "vlan", "ddos", "waf", "ids", "ips", "siem", "soc", "edr", "xdr", "av", "pc", "mac",
        "ide", "git", "pr", "prs", "mr", "npm", "jvm", "ai", "gpt", "bot", "pwa", "spa", "ssr", "wcag", "a11y", "i18n", "l10n",
        // Time zones.
        "utc", "gmt", "cet", "cest", "eet", "eest", "wet", "bst", "ist", "est", "edt", "cst", "cdt", "mst", "mdt", "pst", "pdt", "jst", "aest",
        // Units.
        "kb", "mb", "gb", "tb", "pb", "kbps", "mbps", "gbps", "ms", "km", "kg", "kwh", "mw", "rpm", "rps", "qps", "tps", "fps", "dpi", "ppm", "km/h", "mph",
        // Currencies (ISO 4217, the common ones).
        "eur", "usd", "gbp", "jpy", "chf", "cad", "aud", "nzd", "nok", "sek", "dkk", "isk", "pln", "czk", "huf", "ron", "bgn", "try", "rub", "uah",
        "cny", "rmb", "hkd", "sgd", "inr", "krw", "twd", "thb", "myr", "idr", "php", "vnd", "zar", "ngn", "kes", "egp", "aed", "sar", "ils", "brl",
        "mxn", "ars", "clp", "cop", "pen",
        // Countries and unions (ISO 3166 codes in common use).
        "eu", "eea", "efta", "un", "uk", "usa", "us", "uae", "nato", "oecd", "who", "imf", "ecb", "nl", "no", "se", "dk", "fi", "is", "de", "at",
        "ch", "fr", "be", "lu", "es", "pt", "it", "ie", "gb", "pl", "cz", "sk", "hu", "ro", "bg", "gr", "hr", "si", "ee", "lv", "lt", "tr", "ua",
        "cn", "jp", "kr", "in", "au", "nz", "ca", "mx", "br", "za", "sg", "hk", "nyc", "la", "dc", "sf", "emea", "apac", "latam", "amer", "nam",
        // Legal forms.
        "inc", "corp", "llc", "llp", "lp", "ltd", "plc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "spa", "srl", "nv", "bv", "b.v", "as", "asa",
        "ab", "oy", "oyj", "aps", "a/s", "pty", "pte", "bhd", "kk", "se",
        // Common standards and bodies.
        "ieee", "ietf", "w3c", "nist", "owasp", "cve", "cvss", "iec", "ansi", "din", "en", "itil", "pmp", "scrum", "sla's"
    ]);

    public static bool Contains(string term) =>
        All.Contains(term.Trim().Trim('[', ']').ToLowerInvariant()) || All.Contains(term.Trim().ToLowerInvariant().TrimEnd('s'));
}
