using System.Text.RegularExpressions;
using SecondBrain.Core.Knowledge.Extraction;

namespace SecondBrain.Core.Knowledge.Graph;

/// <summary>
/// The alias key of a user-given name: the extraction's entity key (<see cref="KnowledgeKeys.Entity"/>), so a name
/// typed in a rename or split meets the same alias as the name found in a document; an article or a title alone,
/// which the extraction key keeps, names nobody and is refused.
/// </summary>
internal static partial class EntityNameKey
{
    public static string Normalize(string name)
    {
        var key = KnowledgeKeys.Entity(name);
        return key == "the" || WordLists.Is(key, WordClass.Honorific) ? "" : key;
    }

    public static string CollapseWhitespace(string value) => Whitespace().Replace(value, " ");

    /// <summary>A name as typed by a user: trimmed, whitespace collapsed.</summary>
    public static string Clean(string name) => CollapseWhitespace(name.Trim());

    /// <summary>The key a search is compared with: normalised like an alias, or just lower-cased when that leaves nothing.</summary>
    public static string SearchKey(string text) =>
        Normalize(text) is { Length: > 0 } key ? key : CollapseWhitespace(text.Trim().ToLowerInvariant());

    public static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Whitespace();
}
