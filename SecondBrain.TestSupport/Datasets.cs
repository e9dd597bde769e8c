using System.IO.Compression;

namespace SecondBrain.TestSupport;

/// <summary>
/// The shared real-world datasets (../shared/datasets): found through SECONDBRAIN_DATASETS or by walking up from the
/// test binaries. A fresh clone has none, and tests that need them are skipped with a message saying so.
/// </summary>
public static class Datasets
{
    public static readonly string? Root = Locate();

    private static string? Locate()
    {
        if (Environment.GetEnvironmentVariable("SECONDBRAIN_DATASETS") is { Length: > 0 } configured && Directory.Exists(configured))
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "datasets");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static string Path(string relative) =>
        System.IO.Path.Combine(Root ?? throw new InvalidOperationException("The datasets are not available."), relative);

    /// <summary>Zips a folder in memory the way a user would upload it.</summary>
    public static byte[] ZipFolder(string folder)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                zip.CreateEntryFromFile(file, System.IO.Path.GetRelativePath(folder, file).Replace('\\', '/'));
            }
        }

        return buffer.ToArray();
    }
}
