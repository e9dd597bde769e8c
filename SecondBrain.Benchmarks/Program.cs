using SecondBrain.Benchmarks.Chaos;
using SecondBrain.Benchmarks.Connectors;
using SecondBrain.Benchmarks.Knowledge;
using SecondBrain.Benchmarks.Knowledge.Eval;
using SecondBrain.Benchmarks.Memory;
using SecondBrain.Benchmarks.Reporting;
using SecondBrain.Benchmarks.Retrieval;
using SecondBrain.Benchmarks.Search;
using SecondBrain.Benchmarks.Startup;

// Macro benchmarks of the real stack. Each prints a table and writes JSON under --out (default benchmark-results/).
//   dotnet run -c Release --project SecondBrain.Benchmarks -- startup [--runs 3] [--idle-seconds 10] [--out dir]
//   dotnet run -c Release --project SecondBrain.Benchmarks -- oauth [--flows 300] [--concurrency 16]
//   dotnet run -c Release --project SecondBrain.Benchmarks -- sync [--messages 10000]
//   dotnet run -c Release --project SecondBrain.Benchmarks -- retrieval [--corpus a.jsonl,b.jsonl|glob] [--queries q.jsonl] [--qrels qrels.tsv] [--max-queries N]
//   dotnet run -c Release --project SecondBrain.Benchmarks -- search-latency [--chunks 100000] [--queries 200]
//   dotnet run -c Release --project SecondBrain.Benchmarks -- frames [--sentences 20000] [--rounds 5] [--source generated]
//   dotnet run -c Release --project SecondBrain.Benchmarks -- knowledge-memory [--tenants 10] [--enron true]
//   dotnet run -c Release --project SecondBrain.Benchmarks -- chaos [--minutes 5] [--messages 1500] [--wave 40] [--seed 7]
//   dotnet run -c Release --project SecondBrain.Benchmarks -- knowledge-eval [--sets halvorsen,meridian|planted] [--verbose true]
//   dotnet run -c Release --project SecondBrain.Benchmarks -- memory-bounds [--mbox-mb 200] [--text-messages 500] [--bomb-gb 1] [--idle-seconds 10] [--only mbox,docx]
var arguments = BenchmarkArguments.Parse(args);
var report = arguments.Benchmark switch
{
    "startup" => await StartupBenchmark.RunAsync(arguments),
    "oauth" => await ConnectorsBenchmark.OAuthAsync(arguments),
    "sync" => await ConnectorsBenchmark.SyncAsync(arguments),
    "retrieval" => await RetrievalBenchmark.RunAsync(arguments),
    "search-latency" => await SearchLatencyBenchmark.RunAsync(arguments),
    "frames" => await FrameExtractionBenchmark.RunAsync(arguments),
    "knowledge-memory" => await KnowledgeMemoryBenchmark.RunAsync(arguments),
    "chaos" => await ChaosBenchmark.RunAsync(arguments),
    "knowledge-eval" => await KnowledgeEvalBenchmark.RunAsync(arguments),
    "memory-bounds" => await MemoryBoundsBenchmark.RunAsync(arguments),
    _ => null
};

if (report is null)
{
    Console.Error.WriteLine($"Unknown benchmark '{arguments.Benchmark}'. Available: startup, oauth, sync, retrieval, search-latency, frames, knowledge-memory, chaos, knowledge-eval, memory-bounds.");
    return 2;
}

report.Print(Console.Out);
var path = report.Write(arguments.OutputDirectory);
Console.WriteLine($"Results written to {path}");
return 0;
