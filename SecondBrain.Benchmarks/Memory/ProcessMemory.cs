using System.Globalization;

namespace SecondBrain.Benchmarks.Memory;

/// <summary>
/// A replica process's resident memory from <c>/proc/&lt;pid&gt;/status</c>: VmRSS now and VmHWM, its peak since
/// the peak was last reset (writing 5 to <c>/proc/&lt;pid&gt;/clear_refs</c>, allowed for our own child processes).
/// The peak catches what a sampler between two reads would miss.
/// </summary>
public sealed class ProcessMemory(int processId)
{
    public long ResidentBytes => Read("VmRSS:");

    public long PeakBytes => Read("VmHWM:");

    /// <summary>Starts a new peak from the current resident size; false when the kernel refuses (then the peak is since start).</summary>
    public bool ResetPeak()
    {
        try
        {
            File.WriteAllText($"/proc/{processId}/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private long Read(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{processId}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                var kilobytes = line[field.Length..].Trim().Split(' ')[0];
                return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{processId}/status has no {field}");
    }
}
