using System.Diagnostics;
using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using SecondBrain.Core.AI;
using Xunit.Abstractions;

namespace SecondBrain.Tests.Unit.Embeddings;

/// <summary>The bundled all-MiniLM-L6-v2 model, run for real.</summary>
public sealed class LocalMiniLmEmbeddingGeneratorTests(LocalMiniLmFixture model, ITestOutputHelper output) : IClassFixture<LocalMiniLmFixture>
{
    private readonly LocalMiniLmEmbeddingGenerator _generator = model.Generator;

    [Fact]
    public async Task Returns_384_dimensional_unit_vectors_and_describes_itself()
    {
        var embeddings = await _generator.GenerateAsync(["the cat sat on the mat", "", "Quarterly revenue grew 5%."]);

        Assert.Equal(3, embeddings.Count);
        Assert.All(embeddings, e =>
        {
            Assert.Equal(384, e.Vector.Length);
            Assert.InRange(TensorPrimitives.Norm(e.Vector.Span), 0.999f, 1.001f);
            Assert.Equal("all-MiniLM-L6-v2", e.ModelId);
        });

        var metadata = _generator.GetService<EmbeddingGeneratorMetadata>()!;
        Assert.Equal("local", metadata.ProviderName);
        Assert.Equal("all-MiniLM-L6-v2", metadata.DefaultModelId);
        Assert.Equal(384, metadata.DefaultModelDimensions);
    }

    [Fact]
    public async Task Similar_sentences_are_closer_than_unrelated_ones()
    {
        var embeddings = await _generator.GenerateAsync(["the cat sat on the mat", "a cat is sitting on a rug", "quarterly revenue grew 5%"]);

        var similar = TensorPrimitives.CosineSimilarity(embeddings[0].Vector.Span, embeddings[1].Vector.Span);
        var unrelated = TensorPrimitives.CosineSimilarity(embeddings[0].Vector.Span, embeddings[2].Vector.Span);

        output.WriteLine($"similar {similar:F3}, unrelated {unrelated:F3}");
        Assert.True(similar > unrelated + 0.3f, $"similar {similar}, unrelated {unrelated}");
    }

    [Fact]
    public async Task A_batch_gives_each_text_the_vector_it_gets_alone_in_the_original_order()
    {
        string[] texts =
        [
            "A much longer sentence about the onboarding process for new engineers, who should read the design document first.",
            "short",
            "Medium length text about billing.",
            "Another fairly long sentence, this one about how the incident review decided to add a second on-call engineer."
        ];

        var batch = await _generator.GenerateAsync(texts);
        for (var i = 0; i < texts.Length; i++)
        {
            var alone = await _generator.GenerateAsync([texts[i]]);
            Assert.True(TensorPrimitives.CosineSimilarity(alone[0].Vector.Span, batch[i].Vector.Span) > 0.999f, $"text {i}");
        }
    }

    [Fact]
    public async Task Concurrent_callers_are_served_safely()
    {
        var texts = Enumerable.Range(0, 8).Select(i => $"request {i} asks about the deployment checklist").ToArray();
        var expected = await _generator.GenerateAsync(texts);

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => _generator.GenerateAsync(texts))));

        foreach (var result in results)
        {
            for (var i = 0; i < texts.Length; i++)
            {
                Assert.True(TensorPrimitives.CosineSimilarity(expected[i].Vector.Span, result[i].Vector.Span) > 0.9999f);
            }
        }
    }

    [Fact]
    public async Task Throughput_of_hundred_word_texts_in_batches_of_64()
    {
        var words = "the team decided to move the billing service to the new cluster after the incident review because latency had doubled and the owner asked for a rollback plan with clear steps".Split(' ');
        var texts = Enumerable.Range(0, 64)
            .Select(i => string.Join(' ', Enumerable.Range(0, 100).Select(w => words[(i * 7 + w * 3) % words.Length])))
            .ToArray();
        await _generator.GenerateAsync(texts[..8]);

        var stopwatch = Stopwatch.StartNew();
        const int rounds = 2;
        for (var round = 0; round < rounds; round++)
        {
            await _generator.GenerateAsync(texts);
        }

        var perSecond = rounds * texts.Length / stopwatch.Elapsed.TotalSeconds;
        output.WriteLine($"local MiniLM: {perSecond:F1} texts/s (100-word texts, batch of 64, {Environment.ProcessorCount} cores)");
        Assert.True(perSecond > 2, $"{perSecond:F1} texts/s");
    }
}

/// <summary>One model load for the whole class: it takes about a second.</summary>
public sealed class LocalMiniLmFixture : IDisposable
{
    public LocalMiniLmEmbeddingGenerator Generator { get; } = new();

    public void Dispose() => Generator.Dispose();
}
