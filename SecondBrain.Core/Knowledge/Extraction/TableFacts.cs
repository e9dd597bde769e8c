namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>
/// What a table says by its structure: a header names each column's role (owner, decision, rationale, date,
/// frequency, task, term, meaning), so a row of an ownership matrix is "Owner owns Task", a row of a decision log is a
/// decision with its rationale and who decided, a row of a glossary table is a definition. Rows of a table whose
/// header has such roles get these frames instead of what sentence analysis made of the run-together cells; a
/// rationale cell holding only a placeholder ("—", "TBD", "(to be added)") counts as empty.
/// </summary>
internal static class TableFacts
{
    private enum Role
    {
        None,
        Owner,
        Agent,
        Decision,
        Rationale,
        Date,
        Frequency,
        Task,
        Term,
        Meaning
    }

    private static readonly (Role Role, string[] Words)[] HeaderWords =
    [
        (Role.Agent, ["decided by", "approved by", "decision maker", "decided", "by whom"]),
        (Role.Owner, ["owner", "owners", "responsible", "accountable", "assignee", "assigned to", "maintainer", "maintained by", "dri", "lead", "contact", "who", "person", "done by", "run by", "handled by"]),
        (Role.Decision, ["decision", "decisions", "what was decided", "resolution", "outcome"]),
        (Role.Rationale, ["rationale", "reason", "reasons", "why", "justification", "motivation", "background"]),
        (Role.Frequency, ["frequency", "cadence", "schedule", "recurrence", "how often", "interval", "repeats"]),
        (Role.Date, ["date", "due", "due date", "deadline", "when", "target date", "by when", "eta", "target"]),
        (Role.Task, ["task", "recurring task", "job", "duty", "activity", "action", "item", "responsibility", "process", "what", "deliverable", "milestone", "step", "area", "service", "system"]),
        (Role.Term, ["term", "abbreviation", "acronym", "name", "key", "code", "word", "concept", "tag", "label", "tool"]),
        (Role.Meaning, ["meaning", "definition", "description", "stands for", "explanation", "means", "expansion", "what it means", "what it is"])
    ];

    private static readonly string[] Placeholders =
        ["", "-", "—", "–", "n/a", "na", "tbd", "tba", "to be added", "(to be added)", "to be decided", "?", "none", "pending", "todo", "to do", "unknown", "…", "..."];

    private static readonly string[] GroupWords = ["team", "leadership", "all", "everyone", "management", "board", "committee", "group", "staff", "nobody", "none", "tbd"];

    public static void Apply(IReadOnlyList<SentenceSpan> spans, List<Frame>[] frames, List<EntityMention>[] mentions, List<Definition> definitions)
    {
        for (var i = 0; i < spans.Count; i++)
        {
            if (!spans[i].IsTableRow || (i > 0 && spans[i - 1].IsTableRow && spans[i - 1].Paragraph == spans[i].Paragraph))
            {
                continue;
            }

            var roles = spans[i].Cells.Select(RoleOf).ToArray();
            if (roles.All(r => r == Role.None))
            {
                continue;
            }

            // The header says what the rows mean: what sentence analysis made of it is noise.
            frames[i].Clear();
            for (var row = i + 1; row < spans.Count && spans[row].IsTableRow && spans[row].Paragraph == spans[i].Paragraph; row++)
            {
                ApplyRow(spans[row], roles, row, frames[row], mentions[row], definitions);
            }
        }
    }

    private static void ApplyRow(SentenceSpan span, Role[] roles, int index, List<Frame> frames, List<EntityMention> mentions, List<Definition> definitions)
    {
        var cells = CellRanges(span.Text);
        string? Cell(Role role) => IndexOf(roles, role) is var k and >= 0 && k < cells.Count ? span.Text[cells[k].Start..cells[k].End] : null;
        TextRange Range(Role role) => span.ToDocument(cells[IndexOf(roles, role)]);
        bool Has(Role role) => Cell(role) is { } c && !IsPlaceholder(c);

        // What the row is about: the decision or task column, else (unnamed) its first column.
        var task = Has(Role.Decision) ? Role.Decision : Has(Role.Task) ? Role.Task : Has(Role.Term) ? Role.Term : Role.None;
        var objectCell = task != Role.None ? Cell(task)! : cells.Count > 0 ? span.Text[cells[0].Start..cells[0].End] : "";
        var objectRange = task != Role.None ? Range(task) : cells.Count > 0 ? span.ToDocument(cells[0]) : span.Range;

        // Term and meaning: a definition.
        if (IndexOf(roles, Role.Term) >= 0 && Has(Role.Term) && Has(Role.Meaning))
        {
            foreach (var term in Terms(Cell(Role.Term)!))
            {
                definitions.Add(new Definition(term, KnowledgeKeys.Entity(term), Cell(Role.Meaning)!, DefinitionKind.Lexical, "table", Range(Role.Term), Range(Role.Meaning), index));
            }

            return;
        }

        var ownerRole = Has(Role.Owner) ? Role.Owner : Has(Role.Agent) ? Role.Agent : Role.None;
        var people = ownerRole == Role.None ? [] : People(span, cells[IndexOf(roles, ownerRole)], index, mentions);
        frames.RemoveAll(f => f.Type is FrameType.Decision or FrameType.Process or FrameType.Ownership or FrameType.Constraint or FrameType.Event);

        if (IndexOf(roles, Role.Decision) >= 0 && Has(Role.Decision))
        {
            var slots = new Dictionary<string, string>(StringComparer.Ordinal) { [FrameSlots.Object] = objectCell };
            var ranges = new Dictionary<string, TextRange>(StringComparer.Ordinal) { [FrameSlots.Object] = objectRange };
            if (Has(Role.Rationale))
            {
                slots[FrameSlots.Rationale] = Cell(Role.Rationale)!;
                ranges[FrameSlots.Rationale] = Range(Role.Rationale);
            }

            if (ownerRole != Role.None)
            {
                slots[FrameSlots.Agent] = Cell(ownerRole)!;
                ranges[FrameSlots.Agent] = Range(ownerRole);
            }

            if (Has(Role.Date))
            {
                slots[FrameSlots.Time] = Cell(Role.Date)!;
                ranges[FrameSlots.Time] = Range(Role.Date);
            }

            frames.Add(Build(FrameType.Decision, "table:decision", objectRange, slots, ranges, index));
            return;
        }

        if (objectCell.Length == 0)
        {
            return;
        }

        var frequency = Has(Role.Frequency) ? Cell(Role.Frequency) : null;
        if (people.Count == 0 && ownerRole == Role.None && frequency is null)
        {
            return;
        }

        foreach (var person in people.DefaultIfEmpty())
        {
            var slots = new Dictionary<string, string>(StringComparer.Ordinal) { [FrameSlots.Object] = objectCell };
            var ranges = new Dictionary<string, TextRange>(StringComparer.Ordinal) { [FrameSlots.Object] = objectRange };
            if (person is not null)
            {
                slots[FrameSlots.Owner] = person.Text;
                ranges[FrameSlots.Owner] = person.Range;
            }
            else if (ownerRole != Role.None)
            {
                // A team or role named as owner ("Leadership team"): owned, though by no person.
                slots[FrameSlots.Owner] = Cell(ownerRole)!;
                ranges[FrameSlots.Owner] = Range(ownerRole);
            }

            if (frequency is not null)
            {
                slots[FrameSlots.Frequency] = frequency;
                ranges[FrameSlots.Frequency] = Range(Role.Frequency);
                frames.Add(Build(FrameType.Process, "table:frequency", objectRange, new(slots), new(ranges), index));
            }

            if (slots.ContainsKey(FrameSlots.Owner))
            {
                slots.Remove(FrameSlots.Frequency);
                ranges.Remove(FrameSlots.Frequency);
                frames.Add(Build(FrameType.Ownership, "table:owner", objectRange, slots, ranges, index));
            }
        }
    }

    private static Frame Build(FrameType type, string trigger, TextRange triggerRange, Dictionary<string, string> slots, Dictionary<string, TextRange> ranges, int index)
    {
        var required = FrameSlots.Required(type);
        var missing = required.Where(s => !slots.ContainsKey(s)).ToArray();
        var confidence = Math.Round(0.85 * (0.5 + (0.5 * (required.Count - missing.Length) / required.Count)), 2);
        return new Frame(type, trigger, trigger, triggerRange, false, confidence, slots, ranges, missing, index);
    }

    /// <summary>The people an owner cell names ("Tomasz, Marit", "Lucía and Mehmet"), added as person mentions of the row.</summary>
    private static List<EntityMention> People(SentenceSpan span, TextRange cell, int index, List<EntityMention> mentions)
    {
        var found = new List<EntityMention>();
        var text = span.Text;
        var start = cell.Start;
        for (var k = cell.Start; k <= cell.End; k++)
        {
            var atEnd = k == cell.End;
            var separator = !atEnd && (text[k] is ',' or '/' or '&' or ';' || (k + 5 <= cell.End && text.AsSpan(k, 5).SequenceEqual(" and ")));
            if (!atEnd && !separator)
            {
                continue;
            }

            var (from, to) = Trim(text, start, k);
            if (to > from && PersonLike(text[from..to]))
            {
                var local = new TextRange(from, to);
                var range = span.ToDocument(local);
                var existing = mentions.FirstOrDefault(m => m.Range.Start < range.End && range.Start < m.Range.End);
                if (existing is { Type: EntityType.Person })
                {
                    found.Add(existing);
                }
                else if (existing is null or { Type: not EntityType.Organization })
                {
                    // The column holds people: a name the sentence pass took for a project or term is a person here.
                    mentions.RemoveAll(m => m.Range.Start < range.End && range.Start < m.Range.End && m.Type != EntityType.Organization);
                    var mention = new EntityMention(EntityType.Person, text[from..to], KnowledgeKeys.Entity(text[from..to]), range, index);
                    mentions.Add(mention);
                    found.Add(mention);
                }
            }

            start = k + (separator && text[k] == ' ' ? 5 : 1);
            if (separator && text[k] == ' ')
            {
                k += 4;
            }
        }

        return found;
    }

    /// <summary>One to four capitalised words, no digits, not a team or a placeholder: a person's name in an owner column.</summary>
    internal static bool PersonLike(string name)
    {
        var words = name.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length is 0 or > 4 || IsPlaceholder(name) || name.Any(char.IsDigit) || name.Contains('@'))
        {
            return false;
        }

        if (words.Any(w => GroupWords.Contains(w.ToLowerInvariant().Trim('.', '(', ')'))))
        {
            return false;
        }

        var first = words[0].TrimStart('(');
        return first.Length > 0 && char.IsUpper(first[0]) && !first.All(c => char.IsUpper(c) || !char.IsLetter(c));
    }

    private static (int From, int To) Trim(string text, int from, int to)
    {
        while (from < to && (char.IsWhiteSpace(text[from]) || text[from] is '(' or '*'))
        {
            from++;
        }

        while (to > from && (char.IsWhiteSpace(text[to - 1]) || text[to - 1] is ')' or '.' or '*'))
        {
            to--;
        }

        return (from, to);
    }

    /// <summary>"RTO / RPO" and "P1 / P2 / P3" define each; "HS code" defines "HS code" and its acronym.</summary>
    private static IEnumerable<string> Terms(string cell)
    {
        var terms = cell.Split([" / ", ", "], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => t.Trim('*', '`', ' ')).Where(t => t.Length > 0).ToList();
        foreach (var term in terms)
        {
            yield return term;
            var head = term.Split(' ')[0];
            if (head != term && head.Length >= 2 && head.Count(char.IsUpper) >= 2)
            {
                yield return head;
            }
        }
    }

    private static bool IsPlaceholder(string cell) => Placeholders.Contains(cell.Trim().Trim('*', '_', ' ').ToLowerInvariant());

    private static Role RoleOf(string header)
    {
        var key = header.Trim().Trim('*', '_', ':', ' ').ToLowerInvariant();
        foreach (var (role, words) in HeaderWords)
        {
            if (words.Contains(key))
            {
                return role;
            }
        }

        // "Recurring task", "Owner (backup)", "Due date (2026)": the head word decides.
        foreach (var (role, words) in HeaderWords)
        {
            if (key.Split(' ', '(', ')', '/').Any(w => words.Contains(w) && w.Length > 2))
            {
                return role;
            }
        }

        return Role.None;
    }

    private static int IndexOf(Role[] roles, Role role) => Array.IndexOf(roles, role);

    /// <summary>The cells of a " | "-separated row as ranges of its text, trimmed.</summary>
    private static List<TextRange> CellRanges(string row)
    {
        var cells = new List<TextRange>();
        var start = 0;
        if (row.StartsWith('|'))
        {
            start = 1;
        }

        for (var k = start; k <= row.Length; k++)
        {
            if (k < row.Length && row[k] != '|')
            {
                continue;
            }

            if (k == row.Length && start >= row.Length)
            {
                break;
            }

            var (from, to) = (start, k);
            while (from < to && char.IsWhiteSpace(row[from]))
            {
                from++;
            }

            while (to > from && char.IsWhiteSpace(row[to - 1]))
            {
                to--;
            }

            cells.Add(new TextRange(from, to));
            start = k + 1;
        }

        if (row.EndsWith('|') && cells.Count > 0 && cells[^1].Length == 0)
        {
            cells.RemoveAt(cells.Count - 1);
        }

        return cells;
    }
}
