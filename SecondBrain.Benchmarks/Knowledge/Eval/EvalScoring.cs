using System.Globalization;
using System.Text;

namespace SecondBrain.Benchmarks.Knowledge.Eval;

/// <summary>A gap as the API reported it, reduced to what scoring needs.</summary>
public sealed record ReportedGap(Guid Id, string Type, string Title, IReadOnlyList<string> Quotes, IReadOnlyList<ReportedEntity> Entities);

/// <summary>A person or organisation entity with every name it goes by (its name, aliases, e-mail).</summary>
public sealed record ReportedEntity(Guid Id, string Type, string Name, IReadOnlyList<string> Names);

public sealed record GapTypeScore(string Type, int Planted, int Found, int Reported, int Counted, int Correct, int Incidental)
{
    public double? Recall => Planted == 0 ? null : (double)Found / Planted;
    public double? Precision => Counted == 0 ? null : (double)Correct / Counted;
}

public sealed record EntityTypeScore(string Type, int Documents, int TruePositives, int FalsePositives, int FalseNegatives)
{
    public double? Precision => TruePositives + FalsePositives == 0 ? null : (double)TruePositives / (TruePositives + FalsePositives);
    public double? Recall => TruePositives + FalseNegatives == 0 ? null : (double)TruePositives / (TruePositives + FalseNegatives);
    public double? F1 => Precision is { } p && Recall is { } r && p + r > 0 ? 2 * p * r / (p + r) : null;
}

/// <summary>What was missed and what was wrong, for reading a result rather than only its numbers.</summary>
public sealed record GapDiagnostics(IReadOnlyList<string> Missed, IReadOnlyList<string> FalsePositives, IReadOnlyList<string> ControlsReported);

public sealed record EntityDiagnostics(IReadOnlyList<string> Missed, IReadOnlyList<string> Spurious);

/// <summary>
/// The scoring rules of knowledge-eval, free of I/O. A reported gap matches a planted gap of the same type when one
/// of its evidence quotes overlaps one of the label's quotes: after normalising whitespace and case, one contains
/// the other (the contained one at least 12 characters), or their word overlap (shared words over the smaller
/// quote's words, at least 3 words each) is 0.6 or more; a bus-factor gap matches when it names the labelled person.
/// Reported gaps overlapping an incidental label are left out of precision. Entities are scored per labelled file:
/// a system entity found in the file's documents matches a label when one of its names normalises to one of the
/// label's names.
/// </summary>
public static class EvalScoring
{
    public const double TokenOverlap = 0.6;
    private const int MinContainedLength = 12;
    private const int MinOverlapWords = 3;

    public static IReadOnlyList<string> GapTypes { get; } =
        ["missing_rationale", "missing_owner", "missing_time", "undefined_term", "contradiction", "single_source", "bus_factor", "unanswered_question"];

    public static (IReadOnlyList<GapTypeScore> Scores, GapDiagnostics Diagnostics) ScoreGaps(EvalLabels labels, IReadOnlyList<ReportedGap> reported)
    {
        var scores = new List<GapTypeScore>();
        var missed = new List<string>();
        var wrong = new List<string>();
        var controls = new List<string>();
        foreach (var type in GapTypes)
        {
            var planted = labels.Gaps.Where(g => g.Type == type).ToList();
            var gaps = reported.Where(g => g.Type == type).ToList();
            var found = planted.Count(p => gaps.Any(g => Matches(g, p, labels)));
            missed.AddRange(planted.Where(p => !gaps.Any(g => Matches(g, p, labels)))
                .Select(p => $"{type} {p.Id}: \"{Clip(p.Evidence.FirstOrDefault()?.Quote)}\""));

            int counted = 0, correct = 0, incidental = 0;
            foreach (var gap in gaps)
            {
                if (planted.Any(p => Matches(gap, p, labels)))
                {
                    counted++;
                    correct++;
                    continue;
                }

                if (labels.Incidental.Any(i => (i.Type is null || i.Type == type) && i.Evidence.Any(e => gap.Quotes.Any(q => Overlaps(q, e.Quote)))))
                {
                    incidental++;
                    continue;
                }

                counted++;
                var control = labels.Controls.FirstOrDefault(c => c.Evidence.Any(e => gap.Quotes.Any(q => Overlaps(q, e.Quote))));
                var line = $"{type}: {Clip(gap.Title)} | \"{Clip(gap.Quotes.FirstOrDefault())}\"";
                wrong.Add(control is null ? line : $"{line} (control {control.Id})");
                if (control is not null)
                {
                    controls.Add($"{control.Id} reported as {type}");
                }
            }

            scores.Add(new GapTypeScore(type, planted.Count, found, gaps.Count, counted, correct, incidental));
        }

        return (scores, new GapDiagnostics(missed, wrong, controls));
    }

    public static bool Matches(ReportedGap gap, EvalGap planted, EvalLabels labels)
    {
        if (gap.Type != planted.Type)
        {
            return false;
        }

        if (planted.Type == "bus_factor" && planted.Subject is { Length: > 0 } subject)
        {
            var names = PersonNames(labels, subject);
            return gap.Entities.Where(e => e.Type == "person").Any(e => e.Names.Any(n => names.Contains(NameKey(n))))
                || names.Any(n => n.Length > 3 && NormalizeText(gap.Title).Contains(n, StringComparison.Ordinal));
        }

        return planted.Evidence.Any(e => gap.Quotes.Any(q => Overlaps(q, e.Quote)));
    }

    /// <summary>Two quotes overlap: one contains the other (the shorter at least 12 characters), or they share at least 60% of the smaller one's words.</summary>
    public static bool Overlaps(string a, string b)
    {
        var x = NormalizeText(a);
        var y = NormalizeText(b);
        if (x.Length == 0 || y.Length == 0)
        {
            return false;
        }

        if ((y.Length >= MinContainedLength && x.Contains(y, StringComparison.Ordinal)) || (x.Length >= MinContainedLength && y.Contains(x, StringComparison.Ordinal)))
        {
            return true;
        }

        var wx = Words(x);
        var wy = Words(y);
        if (wx.Count < MinOverlapWords || wy.Count < MinOverlapWords)
        {
            return false;
        }

        var shared = wx.Count(wy.Contains);
        return shared >= TokenOverlap * Math.Min(wx.Count, wy.Count);
    }

    /// <summary>
    /// Per labelled file: the people (or organisations) found in the documents the file became, against the labels;
    /// true positives are labels matched by some found entity, false positives found entities matching no label of
    /// the file, false negatives labels no found entity matches. Micro-averaged over the files.
    /// </summary>
    public static (EntityTypeScore Score, EntityDiagnostics Diagnostics) ScoreEntities(
        string type, EvalLabels labels, IReadOnlyDictionary<string, IReadOnlyList<ReportedEntity>> foundByFile)
    {
        int tp = 0, fp = 0, fn = 0, documents = 0;
        var missed = new List<string>();
        var spurious = new List<string>();
        foreach (var label in labels.EntityLabels)
        {
            var expected = (type == "person" ? label.People : label.Organisations) ?? [];
            var names = expected.Select(e => (Label: e, Keys: type == "person" ? PersonNames(labels, e) : OrganisationNames(labels, e))).ToList();
            var found = (foundByFile.GetValueOrDefault(label.File) ?? []).Where(e => e.Type == type).ToList();
            documents++;
            foreach (var (name, keys) in names)
            {
                if (found.Any(e => e.Names.Any(n => keys.Contains(NameKey(n)))))
                {
                    tp++;
                }
                else
                {
                    fn++;
                    missed.Add($"{label.File}: {name}");
                }
            }

            foreach (var entity in found)
            {
                if (!names.Any(n => entity.Names.Any(x => n.Keys.Contains(NameKey(x)))))
                {
                    fp++;
                    spurious.Add($"{label.File}: {entity.Name}");
                }
            }
        }

        return (new EntityTypeScore(type, documents, tp, fp, fn), new EntityDiagnostics(missed, spurious));
    }

    public static HashSet<string> PersonNames(EvalLabels labels, string name)
    {
        var person = labels.People.FirstOrDefault(p => NameKey(p.Name) == NameKey(name) || (p.Aliases ?? []).Any(a => NameKey(a) == NameKey(name)));
        return [.. new[] { name }.Concat(person is null ? [] : [person.Name, .. person.Aliases ?? []]).Select(NameKey).Where(k => k.Length > 0)];
    }

    public static HashSet<string> OrganisationNames(EvalLabels labels, string name)
    {
        var organisation = labels.Organisations.FirstOrDefault(o => NameKey(o.Name) == NameKey(name) || (o.Aliases ?? []).Any(a => NameKey(a) == NameKey(name)));
        return [.. new[] { name }.Concat(organisation is null ? [] : [organisation.Name, .. organisation.Aliases ?? []]).Select(NameKey).Where(k => k.Length > 0)];
    }

    /// <summary>A name for comparison: lower case, accents and punctuation gone (an e-mail address stays whole).</summary>
    public static string NameKey(string name)
    {
        var text = name.Trim().ToLowerInvariant();
        if (text.Contains('@', StringComparison.Ordinal) && !text.Contains(' ', StringComparison.Ordinal))
        {
            return text.Trim('<', '>');
        }

        var builder = new StringBuilder();
        foreach (var ch in text.Normalize(NormalizationForm.FormD))
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(ch);
            if (category == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            builder.Append(char.IsLetterOrDigit(ch) ? ch : ' ');
        }

        return string.Join(' ', builder.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    public static string NormalizeText(string text) =>
        string.Join(' ', text.Replace('’', '\'').Replace('“', '"').Replace('”', '"').ToLowerInvariant()
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static HashSet<string> Words(string normalized) =>
        [.. normalized.Split(' ').Select(w => w.Trim('.', ',', ';', ':', '!', '?', '"', '\'', '(', ')', '*', '[', ']')).Where(w => w.Length > 0)];

    private static string Clip(string? text) => text is null ? "" : text.Length <= 140 ? text : text[..140] + "…";
}
