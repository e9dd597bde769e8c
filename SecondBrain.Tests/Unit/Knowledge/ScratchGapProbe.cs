using System.Text;
using System.Text.Json;
using SecondBrain.Core.Knowledge.Extraction;
using Xunit.Abstractions;

namespace SecondBrain.Tests.Unit.Knowledge;

public sealed class ScratchGapProbe(ITestOutputHelper output)
{
    [Fact]
    public async Task Probe()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "../../../../../SecondBrain.Tests/Knowledge/Corpus");
        if (!Directory.Exists(root)) root = "/work/main/SecondBrain.Tests/Knowledge/Corpus";
        var sb = new StringBuilder();
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order())
        {
            string text;
            if (file.EndsWith(".eml")) { var all = File.ReadAllText(file); text = all[(all.IndexOf("\n\n") + 2)..]; }
            else if (file.EndsWith(".md") || file.EndsWith(".txt")) text = File.ReadAllText(file);
            else if (file.Contains("/slack/") && !file.EndsWith("users.json") && !file.EndsWith("channels.json"))
            {
                var msgs = JsonDocument.Parse(File.ReadAllText(file)).RootElement.EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList();
                text = string.Join("\n", msgs.Select(m => "Some Body: " + m));
            }
            else continue;
            var ex = await DocumentExtractor.ExtractAsync(new DocumentInput(Guid.NewGuid(), text, Author: new PersonRef("Daniel Okafor", "daniel.okafor@northwind.example")));
            sb.AppendLine("=== " + Path.GetFileName(file));
            foreach (var s in ex.Sentences)
            {
                var frames = ex.Frames.Where(f => f.SentenceIndex == s.Index).ToList();
                var claims = ex.Claims.Where(c => c.SentenceIndex == s.Index).ToList();
                var defs = ex.Definitions.Where(c => c.SentenceIndex == s.Index).ToList();
                var ments = ex.Mentions.Where(c => c.SentenceIndex == s.Index).ToList();
                sb.AppendLine($"[{s.Index}]{(s.IsQuestion ? "?" : "")} {s.Text}");
                foreach (var f in frames) sb.AppendLine($"   F {f.Type} '{f.TriggerPhrase}' neg={f.Negated} c={f.Confidence:0.00} slots={string.Join("; ", f.Slots.Select(k => k.Key + "=" + k.Value))} missing={string.Join(",", f.MissingSlots)}");
                foreach (var c in claims) sb.AppendLine($"   C [{c.SubjectKey}] [{c.PredicateKey}] [{c.NormalizedValue}] {c.ValueKind} pol={c.Polarity}");
                foreach (var d in defs) sb.AppendLine($"   D {d.Term} / {d.TermKey} = {d.Meaning}");
                if (ments.Count > 0) sb.AppendLine($"   M {string.Join(", ", ments.Select(m => m.Type + ":" + m.Text + "(" + m.Key + ")"))}");
            }
        }
        File.WriteAllText("/tmp/gap-probe.txt", sb.ToString());
        output.WriteLine("written");
    }
}
