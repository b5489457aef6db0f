using System.IO.Compression;
using Tuneforge.Cli.Tests.Harness;

namespace Tuneforge.Cli.Tests;

/// <summary>
/// <c>tuneforge models export</c> of the migration fixture's trained source model (so no training of its own): from a
/// running service through its export route, and from the data directory, the same adapter files.
/// </summary>
public partial class MigrateCommandTests
{
    [Fact]
    public async Task Models_export_downloads_the_adapter_from_the_service_as_the_data_directory_export_writes_it()
    {
        var model = (await services.SourceJobAsync()).GetProperty("fine_tuned_model").GetString()!;
        var folder = Directory.CreateTempSubdirectory("tuneforge-export-");
        try
        {
            Task<CliRun> Export(params string[] args) => CliProcess.RunAsync(["models", "export", .. args]);
            string[] service = ["--base-url", services.SourceUrl, "--api-key", MigrationServices.SourceKey];

            var zipPath = Path.Combine(folder.FullName, "remote.zip");
            var remoteZip = await Export([model, "--archive", zipPath, .. service]);
            Assert.True(remoteZip.ExitCode == 0, remoteZip.ToString());
            var remote = Path.Combine(folder.FullName, "remote");
            var remoteDir = await Export([model, "--adapter", remote, .. service]);
            Assert.True(remoteDir.ExitCode == 0, remoteDir.ToString());
            var localZip = Path.Combine(folder.FullName, "local.zip");
            var local = await Export([model, "--archive", localZip, "--data-dir", services.Source.DataDir]);
            Assert.True(local.ExitCode == 0, local.ToString());

            // One archive format: the service's adds the job's metrics to the adapter files the local export writes.
            var remoteEntries = Entries(zipPath);
            var localEntries = Entries(localZip);
            Assert.Contains("adapter_model.safetensors", localEntries.Keys);
            Assert.Equal(localEntries.Keys.Append("step_metrics.csv").Order(), remoteEntries.Keys.Order());
            foreach (var (name, bytes) in localEntries)
            {
                Assert.Equal(bytes, remoteEntries[name]);
                Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(remote, name)));
            }

            var missing = await Export(["ft:tuneforge-tiny:org-source:nothing:abc", "--archive", Path.Combine(folder.FullName, "x.zip"), .. service]);
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("does not exist", missing.Stderr);
            Assert.Single(missing.Stderr.Trim().Split('\n'));
            Assert.False(File.Exists(Path.Combine(folder.FullName, "x.zip.partial")));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static Dictionary<string, byte[]> Entries(string zipPath)
    {
        using var zip = ZipFile.OpenRead(zipPath);
        return zip.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var stream = e.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        });
    }
}
