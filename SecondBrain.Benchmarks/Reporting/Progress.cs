using System.Diagnostics;
using System.Globalization;

namespace SecondBrain.Benchmarks.Reporting;

/// <summary>
/// A line of progress every few seconds for long benchmarks (items done, rate, ETA), so a run that takes a quarter of
/// an hour says what it is doing. Writes to stderr, which keeps stdout's table clean.
/// </summary>
public sealed class Progress(string what, long total, TimeSpan? interval = null)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _interval = interval ?? TimeSpan.FromSeconds(10);
    private TimeSpan _last = TimeSpan.Zero;
    private long _startDone = -1;

    public long Total { get; set; } = total;

    public void Report(long done, string? detail = null, bool force = false)
    {
        if (_startDone < 0)
        {
            _startDone = done;
        }

        var elapsed = _clock.Elapsed;
        if (!force && elapsed - _last < _interval)
        {
            return;
        }

        _last = elapsed;
        var rate = (done - _startDone) / Math.Max(0.001, elapsed.TotalSeconds);
        var percent = Total > 0 ? $" ({100.0 * done / Total:F0}%)" : "";
        var eta = Total > 0 && rate > 0 && done < Total ? $", ETA {Format(TimeSpan.FromSeconds((Total - done) / rate))}" : "";
        var of = Total > 0 ? $"/{Total.ToString(CultureInfo.InvariantCulture)}" : "";
        Console.Error.WriteLine($"[{Format(elapsed)}] {what}: {done.ToString(CultureInfo.InvariantCulture)}{of}{percent}, {rate.ToString("F1", CultureInfo.InvariantCulture)}/s{eta}{(detail is null ? "" : "; " + detail)}");
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
}
