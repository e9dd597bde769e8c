using SecondBrain.Benchmarks.Reporting;
using SecondBrain.Benchmarks.Startup;

// Macro benchmarks of the real stack. Each prints a table and writes JSON under --out (default benchmark-results/).
//   dotnet run -c Release --project SecondBrain.Benchmarks -- startup [--runs 3] [--idle-seconds 10] [--out dir]
var arguments = BenchmarkArguments.Parse(args);
var report = arguments.Benchmark switch
{
    "startup" => await StartupBenchmark.RunAsync(arguments),
    _ => null
};

if (report is null)
{
    Console.Error.WriteLine($"Unknown benchmark '{arguments.Benchmark}'. Available: startup.");
    return 2;
}

report.Print(Console.Out);
var path = report.Write(arguments.OutputDirectory);
Console.WriteLine($"Results written to {path}");
return 0;
