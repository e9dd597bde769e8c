using System.Collections.Frozen;

namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>Closed-class and domain word classes, looked up once per token by its lower-case surface form.</summary>
[Flags]
internal enum WordClass : ulong
{
    None = 0,
    Article = 1UL << 0,
    Determiner = 1UL << 1,
    SubjectPronoun = 1UL << 2,
    ObjectPronoun = 1UL << 3,
    Auxiliary = 1UL << 4,
    Copula = 1UL << 5,
    Negation = 1UL << 6,
    Preposition = 1UL << 7,
    Conjunction = 1UL << 8,
    Subordinator = 1UL << 9,
    Adverb = 1UL << 10,
    QuestionWord = 1UL << 11,
    QuestionAux = 1UL << 12,
    Month = 1UL << 13,
    Weekday = 1UL << 14,
    RelativeDay = 1UL << 15,
    RelativeModifier = 1UL << 16,
    Period = 1UL << 17,
    DurationUnit = 1UL << 18,
    Honorific = 1UL << 19,
    OrgSuffix = 1UL << 20,
    SystemHead = 1UL << 21,
    ProjectWord = 1UL << 22,
    FirstName = 1UL << 23,
    AmbiguousFirstName = 1UL << 24,
    AcronymStop = 1UL << 25,
    CurrencyCode = 1UL << 26,
    Magnitude = 1UL << 27,
    NumberWord = 1UL << 28,
    GenericAdjective = 1UL << 29,
    GroupNoun = 1UL << 30,
    PercentWord = 1UL << 31,
    DateWord = 1UL << 32,
    Discourse = 1UL << 33,
    PlaceNoun = 1UL << 34,
    MeetingPlatform = 1UL << 35,
    ProcessNoun = 1UL << 36,
    CommonCapitalized = 1UL << 37,

    FunctionWord = Article | Determiner | SubjectPronoun | ObjectPronoun | Auxiliary | Copula | Negation | Preposition
        | Conjunction | Subordinator | Adverb | QuestionWord | Discourse
}

/// <summary>
/// The analyser's immutable word lists. They are part of <see cref="TriggerLexicon.Version"/>: changing any of them
/// changes every cache key, so cached analyses made with old lists are never served.
/// </summary>
internal static class WordLists
{
    public static readonly (WordClass Class, string[] Words)[] Groups =
    [
        (WordClass.Article, ["a", "an", "the"]),
        (WordClass.Determiner, ["this", "that", "these", "those", "our", "my", "your", "their", "its", "his", "her", "each", "every", "all", "some", "any", "another", "such", "both", "either", "neither", "several", "many", "few", "most", "no"]),
        (WordClass.SubjectPronoun, ["i", "we", "you", "he", "she", "they", "it", "someone", "somebody", "everyone", "everybody", "nobody", "anyone"]),
        (WordClass.ObjectPronoun, ["me", "us", "him", "her", "them", "it", "this", "that", "myself", "ourselves", "himself", "herself", "themselves", "itself"]),
        (WordClass.Auxiliary, ["be", "am", "is", "are", "was", "were", "been", "being", "have", "has", "had", "having", "do", "does", "did", "will", "would", "shall", "should", "can", "could", "may", "might", "must", "'ll", "we'll", "i'll", "we've", "i've", "we're", "they're", "they'll", "you'll", "it's", "that's", "there's", "here's", "we'd", "i'd", "get", "got", "gets", "going", "gonna"]),
        (WordClass.Copula, ["is", "are", "was", "were", "be", "been", "am", "remains", "remain", "remained", "equals", "equal", "equaled", "stands", "sits", "becomes", "became", "isn't", "aren't", "wasn't", "weren't"]),
        (WordClass.Negation, ["not", "no", "never", "without", "neither", "nor", "cannot", "none", "nobody", "nothing", "nowhere", "hardly"]),
        (WordClass.Preposition, ["of", "for", "in", "on", "at", "by", "with", "from", "to", "into", "onto", "about", "over", "under", "between", "through", "during", "before", "after", "until", "till", "since", "within", "across", "per", "via", "against", "among", "around", "behind", "beyond", "toward", "towards", "upon", "than", "as", "like", "including", "regarding", "re", "throughout", "above", "below", "beside", "besides", "off", "out", "up", "down", "near"]),
        (WordClass.Conjunction, ["and", "or", "but", "nor", "yet", "plus", "&"]),
        (WordClass.Subordinator, ["because", "since", "although", "though", "while", "if", "unless", "when", "whenever", "whereas", "once", "so", "whether", "where", "which", "who", "that", "after", "before", "until"]),
        (WordClass.Adverb, ["also", "just", "already", "finally", "now", "currently", "still", "really", "actually", "probably", "definitely", "ultimately", "eventually", "recently", "officially", "formally", "then", "only", "even", "always", "usually", "often", "sometimes", "again", "soon", "instead", "therefore", "thus", "hence", "however", "basically", "clearly", "certainly", "likely", "unanimously", "collectively", "jointly", "together", "apparently", "essentially", "generally", "mostly", "initially", "originally", "previously", "tentatively", "very", "too", "quite", "rather", "perhaps", "maybe", "officially", "fully", "partly", "mainly", "simply", "longer", "anymore", "yet", "largely", "primarily"]),
        (WordClass.Discourse, ["so", "ok", "okay", "well", "also", "anyway", "btw", "fyi", "hi", "hello", "hey", "dear", "thanks", "please", "yes", "yeah", "note", "update", "re", "fw", "fwd", "and", "but", "or", "then", "besides", "additionally", "furthermore", "moreover", "meanwhile", "overall", "ps"]),
        (WordClass.QuestionWord, ["who", "what", "when", "where", "why", "how", "which", "whom", "whose", "who's", "what's", "when's", "where's", "why's", "how's"]),
        (WordClass.QuestionAux, ["can", "could", "should", "would", "does", "do", "did", "is", "are", "was", "were", "will", "shall", "may", "has", "have", "had", "am", "might", "must", "isn't", "aren't", "doesn't", "didn't", "won't", "can't", "couldn't", "shouldn't", "wouldn't", "hasn't", "haven't", "wasn't", "weren't"]),
        (WordClass.Month, ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"]),
        (WordClass.Weekday, ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mondays", "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays", "sundays", "tues", "thurs"]),
        (WordClass.RelativeDay, ["today", "tonight", "tomorrow", "yesterday", "eod", "eow", "eom", "eoq", "eoy", "asap", "weekend"]),
        (WordClass.RelativeModifier, ["next", "last", "this", "coming", "following", "previous", "upcoming", "current", "early", "late", "mid", "end"]),
        (WordClass.Period, ["day", "week", "month", "quarter", "year", "sprint", "weekend", "morning", "afternoon", "evening", "night", "fortnight", "semester", "half", "cycle", "release"]),
        (WordClass.DurationUnit, ["ms", "millisecond", "milliseconds", "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes", "hr", "hrs", "hour", "hours", "day", "days", "week", "weeks", "wk", "wks", "month", "months", "mo", "mos", "year", "years", "yr", "yrs"]),
        (WordClass.Honorific, ["mr", "mrs", "ms", "mx", "dr", "prof", "professor", "sir", "madam", "dame", "miss"]),
        (WordClass.OrgSuffix, ["inc", "corp", "corporation", "llc", "ltd", "limited", "gmbh", "ag", "plc", "llp", "lp", "co", "company", "group", "holdings", "partners", "associates", "bank", "foundation", "university", "institute", "labs", "technologies", "ventures", "capital", "consulting", "sa", "nv", "bv", "pty", "srl", "industries", "enterprises", "solutions", "agency", "association", "council", "commission", "authority", "department", "ministry",
            // Legal forms outside the English-speaking world, and head nouns that name a business ("Rhine Barge Lines", "De Graaf Logistics").
            "as", "asa", "ab", "oy", "oyj", "aps", "a/s", "kg", "gmbh", "sas", "sarl", "spa", "pte", "bhd", "lines", "logistics", "transport", "haulage", "forwarding", "spedition", "freight", "shipping", "airlines", "airways", "software", "healthcare", "clinic", "clinics", "hospital", "hospitals", "insurance", "college", "school", "trust", "services", "studios", "media", "networks", "telecom", "pharma", "advisors", "advisory", "law", "lawyers", "brokers", "bureau", "cooperative", "ventures", "systems"]),
        (WordClass.SystemHead, ["service", "platform", "pipeline", "system", "api", "database", "db", "app", "application", "tool", "server", "cluster", "repo", "repository", "dashboard", "module", "library", "sdk", "bot", "portal", "engine", "framework", "microservice", "backend", "frontend", "queue", "gateway", "endpoint", "integration", "warehouse", "datastore", "cache", "scheduler", "connector", "plugin", "extension", "website", "site"]),
        (WordClass.ProjectWord, ["project", "initiative", "programme", "program", "workstream", "operation", "migration", "rollout", "pilot", "campaign"]),
        // Heads of noun phrases that name something done again and again: with a frequency they make a process ("the certificate renewal happens every 90 days").
        (WordClass.ProcessNoun, ["renewal", "refresh", "rotation", "backup", "backups", "review", "audit", "deployment", "deploy", "release", "report", "sync", "cleanup", "clean-up", "reconciliation", "rollover", "job", "task", "check", "scan", "export", "import", "update", "upgrade", "maintenance", "payroll", "restore", "snapshot", "rebuild", "retro", "standup", "stand-up", "meeting", "run", "patching", "invoicing", "billing", "digest", "newsletter", "purge", "archival", "rebalance", "recertification", "drill", "test", "tests"]),
        // Everyday words (departments, environments, nationalities) written capitalised: not names of products or systems.
        (WordClass.CommonCapitalized, ["finance", "sales", "marketing", "engineering", "legal", "security", "support", "ops", "devops", "operations", "product", "design", "infra", "infrastructure", "research", "compliance", "procurement", "admin", "production", "staging", "internet", "web", "email", "e-mail", "mail", "inbox", "calendar", "customer", "customers", "client", "clients", "user", "users", "team", "board", "north", "south", "east", "west", "christmas", "easter", "thanksgiving", "regards", "best", "cheers", "thanks", "thank", "sincerely", "attached", "agenda", "summary", "subject", "action", "items", "notes", "status", "appendix", "section", "chapter", "figure", "table", "step", "goal", "goals", "background", "context", "overview", "details", "questions", "answers", "glossary", "decision", "decisions", "owner", "owners", "risks", "next", "steps", "today", "everyone", "all", "folks", "team's", "wiki", "readme", "todo"]),
        (WordClass.GroupNoun, ["team", "group", "squad", "department", "committee", "board", "org", "organization", "company", "vendor", "customer", "client", "partner", "crew", "staff", "management", "leadership", "folks", "people"]),
        (WordClass.PlaceNoun, ["room", "office", "building", "floor", "hq", "headquarters", "hall", "auditorium", "campus", "cafeteria", "lobby"]),
        (WordClass.MeetingPlatform, ["zoom", "teams", "meet", "hangouts", "webex", "skype", "slack", "online", "remotely"]),
        // Capitalised acronyms that are everyday words, chat shorthand, time zones, countries, units or C-level titles:
        // nobody defines them, so reporting them as "used but never defined" would be noise.
        (WordClass.AcronymStop, ["i", "ok", "us", "usa", "uk", "eu", "un", "am", "pm", "tv", "fyi", "asap", "cc", "bcc", "re", "fw", "fwd", "eod", "eow", "eom", "eoq", "eoy", "ps", "pps", "aka", "eta", "tbd", "tba", "na", "vs", "ie", "eg", "etc", "ceo", "cfo", "cto", "coo", "cio", "ciso", "vp", "svp", "evp", "hr", "pr", "faq", "nyc", "la", "dc", "id", "pdf", "url", "http", "https", "www", "html", "pst", "pdt", "est", "edt", "cst", "cdt", "mst", "mdt", "gmt", "utc", "bst", "cet", "lol", "thx", "btw", "imo", "imho", "afaik", "omg", "rsvp", "nb", "ii", "iii", "iv", "vi", "vii", "viii", "ix", "xi", "xii", "xx", "xxx", "mb", "gb", "tb", "kb", "ms", "usd", "eur", "gbp", "jpy", "cad", "aud", "chf", "inr", "cny", "no", "oh", "hi", "ah", "it", "is", "be", "or", "an", "to", "of", "in", "on", "at", "we", "he", "me", "my", "so", "do", "go", "if", "by", "up", "a", "ooo", "wfh", "pto", "dm", "pm's", "ok'd", "q1", "q2", "q3", "q4", "h1", "h2", "fy", "llc", "llp", "plc", "gmbh", "ltd", "inc", "corp", "co", "ag", "lp", "sa", "nv", "bv"]),
        (WordClass.CurrencyCode, ["usd", "eur", "gbp", "jpy", "cad", "aud", "chf", "inr", "cny", "dollars", "dollar", "euros", "euro", "bucks"]),
        (WordClass.Magnitude, ["k", "thousand", "m", "mm", "mn", "million", "millions", "b", "bn", "billion", "billions"]),
        (WordClass.NumberWord, ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "a", "an"]),
        (WordClass.PercentWord, ["percent", "pct", "%", "percentage"]),
        (WordClass.DateWord, ["date", "deadline", "day", "timeline", "eta", "due", "time", "timing"]),
        (WordClass.GenericAdjective, ["new", "old", "current", "existing", "same", "whole", "entire", "other", "main", "overall", "different", "various", "certain", "specific", "particular", "own", "first", "second", "next", "last", "final", "big", "small", "large", "good", "bad", "great", "important", "key", "whole"]),
        (WordClass.FirstName, [
            "aaron", "adam", "adrian", "ahmed", "aisha", "alan", "albert", "alex", "alexander", "alexandra", "alice", "alicia", "alison", "allison", "amanda", "amir", "amy", "ana", "andre", "andrea", "andrew", "andy", "angela", "anil", "anita", "ann", "anna", "anne", "anthony", "antonio", "arjun", "arthur", "ashley", "barbara", "ben", "benjamin", "beth", "betty", "brad", "bradley", "brandon", "brenda", "brian", "bruce", "bryan", "carl", "carla", "carlos", "carol", "caroline", "catherine", "charles", "charlie", "chen", "cheryl", "chris", "christian", "christina", "christine", "christopher", "cindy", "claire", "craig", "cynthia", "dan", "daniel", "danielle", "darren", "dave", "david", "deborah", "debra", "dennis", "derek", "diana", "diane", "donald", "donna", "doug", "douglas", "dylan", "ed", "eddie", "edward", "elena", "elizabeth", "ellen", "emily", "emma", "eric", "erica", "erik", "erin", "ethan", "eva", "evan", "fatima", "fernando", "frances", "francis", "gary", "george", "gerald", "gina", "greg", "gregory", "hannah", "harold", "harry", "heather", "helen", "henry", "hiroshi", "holly", "ian", "irene", "isaac", "ivan", "jacob", "james", "jamie", "jane", "janet", "jason", "jeff", "jeffrey", "jennifer", "jenny", "jeremy", "jerry", "jessica", "jim", "jimmy", "joan", "joe", "joel", "john", "johnny", "jon", "jonathan", "jordan", "jose", "joseph", "josh", "joshua", "joyce", "juan", "judy", "julia", "julie", "justin", "karen", "kate", "katherine", "kathleen", "kathy", "keith", "kelly", "ken", "kenneth", "kevin", "kim", "kimberly", "kyle", "larry", "laura", "lauren", "lee", "leo", "li", "linda", "lisa", "liz", "lori", "louis", "lucas", "lucy", "luis", "maria", "marie", "marilyn", "mario", "martha", "martin", "mary", "matt", "matthew", "megan", "melissa", "michael", "michelle", "mike", "mohammed", "monica", "nancy", "natalie", "nathan", "neil", "nicholas", "nick", "nicole", "nina", "noah", "olga", "oliver", "olivia", "omar", "pamela", "paul", "paula", "peter", "philip", "phillip", "priya", "rachel", "rahul", "ralph", "randy", "raj", "rebecca", "richard", "rick", "rob", "robert", "roberto", "roger", "ron", "ronald", "ruth", "ryan", "sally", "samantha", "samuel", "sandra", "sara", "sarah", "scott", "sean", "sharon", "shirley", "simon", "sofia", "sophia", "stacy", "stephanie", "stephen", "steve", "steven", "susan", "tammy", "teresa", "terry", "thomas", "tiffany", "timothy", "tina", "todd", "tom", "tony", "tracy", "travis", "tyler", "valerie", "vanessa", "venkat", "vince", "vincent", "virginia", "walter", "wayne", "wei", "william", "yuki", "zachary", "zoe", "kenny", "jeffery", "vikram", "sanjay", "ravi", "deepak", "lakshmi", "mei", "xin", "yan", "jun", "kai", "lars", "sven", "ingrid", "hans", "klaus", "pierre", "jean", "sophie", "marco", "giulia", "pablo", "diego", "lucia", "olu", "kwame", "ngozi", "tim", "sam", "greta", "louise", "sheila", "stan", "stanley", "sherri", "kay", "tana", "rosalee"
        ]),
        // Common words that are also first names: a person only when a capitalised surname follows.
        (WordClass.AmbiguousFirstName, ["will", "mark", "bill", "may", "june", "april", "august", "grace", "rose", "faith", "hope", "joy", "summer", "dawn", "art", "pat", "sue", "jack", "frank", "chase", "grant", "drew", "lance", "miles", "max", "sky", "ruby", "guy", "jay", "ray", "victor", "don", "al", "bob", "rich", "penny", "bud", "sunny", "crystal", "amber", "daisy", "iris", "ivy", "destiny", "harmony", "gene", "rusty", "wade", "dean", "glen", "carter", "mason", "hunter", "page", "paige", "sandy", "misty"])
    ];

    public static readonly FrozenDictionary<string, WordClass> Classes = Build();

    public static readonly FrozenDictionary<string, WordClass>.AlternateLookup<ReadOnlySpan<char>> ClassLookup =
        Classes.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Verbs whose subject and object make a claim ("we support SSO"): stem to base form.</summary>
    public static readonly string[] ClaimVerbs =
    [
        "support", "use", "offer", "include", "require", "allow", "provide", "accept", "cost", "take", "have", "contain",
        "cover", "store", "charge", "integrate", "depend", "serve", "handle", "expire", "renew", "replace", "sell", "pay",
        "employ", "host", "ship", "encrypt", "guarantee", "promise", "comply", "run", "lack", "permit", "has", "had", "took"
    ];

    /// <summary>
    /// Common verbs in base form, so noun phrases stop at them ("the team tested it"): a closed list instead of a
    /// part-of-speech model. Stems are compared, so inflections count.
    /// </summary>
    public static readonly string[] CommonVerbs =
    [
        "say", "said", "think", "thought", "know", "knew", "want", "like", "make", "made", "get", "got", "go", "went", "gone",
        "come", "came", "see", "saw", "seen", "send", "sent", "review", "move", "test", "deploy", "fix", "plan", "ask", "tell",
        "told", "meet", "met", "call", "work", "start", "stop", "finish", "create", "update", "write", "wrote", "read",
        "check", "agree", "decide", "approve", "reject", "manage", "lead", "led", "own", "run", "ran", "report", "attach",
        "forward", "discuss", "confirm", "expect", "hope", "let", "help", "try", "tried", "give", "gave", "keep", "kept", "put",
        "show", "add", "change", "set", "open", "close", "migrate", "upgrade", "implement", "build", "built", "hold",
        "held", "hire", "buy", "bought", "increase", "decrease", "grow", "grew", "drop", "fall", "fell", "rise", "rose",
        "fail", "break", "broke", "crash", "look", "investigate", "maintain", "receive", "continue", "begin", "began",
        "become", "became", "seem", "feel", "felt", "talk", "speak", "spoke", "mean", "meant", "believe", "suggest",
        "recommend", "propose", "prefer", "choose", "chose", "select", "adopt", "schedule", "postpone", "cancel", "launch",
        "release", "finalize", "complete", "prepare", "ensure", "consider", "arrange", "attend", "join", "leave", "left",
        "find", "found", "need", "learn", "note", "remember", "forget", "understand", "understood", "win", "won", "lose",
        "lost", "pass", "happen", "occur", "reach", "reduce", "improve", "exceed", "miss", "plan", "sign", "transfer",
        "assign", "reassign", "own", "define", "stand", "refer", "apologize", "appreciate", "thank", "welcome", "wish"
    ];

    public static bool Is(string lowerWord, WordClass wordClass) =>
        Classes.TryGetValue(lowerWord, out var classes) && (classes & wordClass) != 0;

    private static FrozenDictionary<string, WordClass> Build()
    {
        var classes = new Dictionary<string, WordClass>(StringComparer.Ordinal);
        foreach (var (wordClass, words) in Groups)
        {
            foreach (var word in words)
            {
                classes[word] = classes.GetValueOrDefault(word) | wordClass;
            }
        }

        return classes.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
