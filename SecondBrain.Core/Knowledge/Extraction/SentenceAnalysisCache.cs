using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>
/// A shared store of <see cref="SentenceAnalysis"/> results (a bounded in-process cache, Redis, or both). The same
/// sentence recurs across documents (quoted replies, forwarded threads, templates), and its analysis depends on
/// nothing but its text and the lexicon, so it is computed once. Keys come from <see cref="KeyFor(string)"/>;
/// they carry the lexicon version, so a changed lexicon simply misses. The extractor calls each method at most
/// once per document. Implementations should treat their own failures as misses (a cache only accelerates),
/// since exceptions propagate to the caller of <see cref="DocumentExtractor.ExtractAsync"/>. The key is a hash of
/// the text, so sharing it across tenants reveals nothing but, through hit timing, that someone else saw the same
/// sentence: prefix it with the tenant if that matters.
/// </summary>
public interface ISentenceAnalysisCache
{
    const string KeyPrefix = "sb:sentence:";

    /// <summary>The analyses found; absent keys are misses.</summary>
    Task<IReadOnlyDictionary<string, SentenceAnalysis>> GetManyAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken);

    Task SetManyAsync(IReadOnlyDictionary<string, SentenceAnalysis> values, CancellationToken cancellationToken);

    /// <summary>"sb:sentence:{lexicon version}:{SHA-256 of the normalised sentence, hex}".</summary>
    static string KeyFor(string sentence) => KeyFor(sentence, TriggerLexicon.Default.Version);

    static string KeyFor(string sentence, string lexiconVersion)
    {
        var normalized = SentenceSegmenter.Normalize(sentence);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(normalized));
        return $"{KeyPrefix}{lexiconVersion}:{Convert.ToHexStringLower(hash)}";
    }
}

/// <summary>Source-generated System.Text.Json metadata for the extraction results (for a Redis cache or storage).</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SentenceAnalysis))]
[JsonSerializable(typeof(DocumentExtraction))]
[JsonSerializable(typeof(Dictionary<string, SentenceAnalysis>))]
public sealed partial class ExtractionJsonContext : JsonSerializerContext;
