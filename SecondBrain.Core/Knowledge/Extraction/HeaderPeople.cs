using System.Globalization;

namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>
/// The people a document's headers name (author, recipients, Slack users), with the variants the text may use for
/// them: full name, e-mail address, and a first or last name that only one of them has.
/// </summary>
internal sealed class HeaderPeople
{
    public sealed record Person(string Key, string Display, string? Name, string? Email);

    private readonly List<Person> _people = [];
    private readonly Dictionary<string, Person?> _aliases = new(StringComparer.Ordinal);
    private readonly List<(string Text, Person Person)> _searchable = [];

    public Person? Author { get; private set; }

    public bool IsEmpty => _people.Count == 0;

    public static HeaderPeople From(DocumentInput document)
    {
        var result = new HeaderPeople();
        foreach (var reference in (document.HeaderPeople ?? []).Append(document.Author))
        {
            if (reference is not null)
            {
                result.Add(reference);
            }
        }

        if (document.Author is { } author)
        {
            result.Author = result.Find(author);
        }

        result.IndexVariants();
        return result;
    }

    public Person? Resolve(string mentionKey) => _aliases.TryGetValue(mentionKey, out var person) ? person : null;

    /// <summary>Where the sentence names a header person: full names, and first or last names that are unambiguous.</summary>
    public IEnumerable<(int Start, int End, Person Person)> FindIn(string sentence)
    {
        foreach (var (text, person) in _searchable)
        {
            for (var at = sentence.IndexOf(text, StringComparison.Ordinal); at >= 0; at = sentence.IndexOf(text, at + text.Length, StringComparison.Ordinal))
            {
                var end = at + text.Length;
                if ((at == 0 || !char.IsLetterOrDigit(sentence[at - 1])) && (end == sentence.Length || !char.IsLetterOrDigit(sentence[end])))
                {
                    yield return (at, end, person);
                }
            }
        }
    }

    private void Add(PersonRef reference)
    {
        var email = reference.Email?.Trim().Trim('<', '>').ToLowerInvariant();
        email = email is { Length: > 0 } && email.Contains('@') ? email : null;
        var name = CleanName(reference.Name) ?? NameFromEmail(email);
        if (name is null && email is null)
        {
            return;
        }

        var key = name is not null ? KnowledgeKeys.Entity(name) : email!;
        if (_people.Find(p => p.Key == key || (email is not null && p.Email == email)) is { } existing)
        {
            var merged = existing with { Email = existing.Email ?? email, Name = existing.Name ?? name };
            _people[_people.IndexOf(existing)] = merged;
            return;
        }

        _people.Add(new Person(key, name ?? email!, name, email));
    }

    private Person? Find(PersonRef reference)
    {
        var email = reference.Email?.Trim().Trim('<', '>').ToLowerInvariant();
        var name = CleanName(reference.Name) ?? NameFromEmail(email);
        var key = name is not null ? KnowledgeKeys.Entity(name) : email;
        return _people.Find(p => p.Key == key || (email is not null && p.Email == email));
    }

    private void IndexVariants()
    {
        var firstNames = new Dictionary<string, List<Person>>(StringComparer.Ordinal);
        var lastNames = new Dictionary<string, List<Person>>(StringComparer.Ordinal);
        foreach (var person in _people)
        {
            _aliases[person.Key] = person;
            if (person.Email is not null)
            {
                _aliases[person.Email] = person;
            }

            if (person.Name is null)
            {
                continue;
            }

            _searchable.Add((person.Name, person));
            var words = person.Name.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length >= 2)
            {
                Collect(firstNames, words[0], person);
                Collect(lastNames, words[^1], person);
            }
        }

        foreach (var (names, allowShort) in new[] { (firstNames, true), (lastNames, false) })
        {
            foreach (var (word, people) in names)
            {
                var key = word.ToLowerInvariant();
                if (people.Count != 1 || word.Length < 3 || (!allowShort && word.Length < 4) || WordLists.Is(key, WordClass.AmbiguousFirstName) || WordLists.Is(key, WordClass.FunctionWord))
                {
                    continue;
                }

                _aliases.TryAdd(key, people[0]);
                _searchable.Add((word, people[0]));
            }
        }

        // Longer names first, so "Kenneth Lay" is found before "Kenneth".
        _searchable.Sort((a, b) => b.Text.Length.CompareTo(a.Text.Length));
    }

    private static void Collect(Dictionary<string, List<Person>> names, string word, Person person)
    {
        if (!names.TryGetValue(word, out var list))
        {
            names[word] = list = [];
        }

        if (!list.Contains(person))
        {
            list.Add(person);
        }
    }

    /// <summary>"Lay, Kenneth" is "Kenneth Lay"; Lotus Notes paths ("Ron Green/GCO/Enron@ENRON") and quotes go; capitals become title case.</summary>
    private static string? CleanName(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        var name = raw.Trim().Trim('"', '\'', ' ');
        var cut = name.IndexOfAny(['/', '<', '(']);
        if (cut > 0)
        {
            name = name[..cut].Trim();
        }

        if (name.Contains('@'))
        {
            return null;
        }

        var comma = name.IndexOf(',');
        if (comma > 0 && name.IndexOf(',', comma + 1) < 0)
        {
            name = $"{name[(comma + 1)..].Trim()} {name[..comma].Trim()}";
        }

        name = string.Join(' ', name.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (name.Length == 0 || !name.Any(char.IsLetter))
        {
            return null;
        }

        return name.Any(char.IsLower) ? name : CultureInfo.InvariantCulture.TextInfo.ToTitleCase(name.ToLowerInvariant());
    }

    /// <summary>"maria.lopez@example.com" is probably Maria Lopez.</summary>
    private static string? NameFromEmail(string? email)
    {
        if (email is null)
        {
            return null;
        }

        var parts = email[..email.IndexOf('@')].Split('.', '_', '-');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length < 2 || !p.All(char.IsLetter)))
        {
            return null;
        }

        return string.Join(' ', parts.Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
    }
}
