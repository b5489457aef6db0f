using Microsoft.Data.Sqlite;
using Tuneforge.Core.Accounts;
using Tuneforge.Core.Files;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Models;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Tests.Storage;

/// <summary>Nodes may mount the shared data directory at different paths: the database names artifacts relative to it.</summary>
public class DataPathsTests
{
    private static readonly string DataDir = Path.Combine(Path.GetTempPath(), "tuneforge-data");

    [Fact]
    public void A_path_under_the_data_directory_is_stored_relative_with_forward_slashes_and_one_outside_stays_absolute()
    {
        Assert.Equal("files/file-1", DataPaths.ToStored(DataDir, Path.Combine(DataDir, "files", "file-1")));
        Assert.Equal("jobs/ftjob-1/checkpoints/step-2", DataPaths.ToStored(DataDir + Path.DirectorySeparatorChar, Path.Combine(DataDir, "jobs", "ftjob-1", "checkpoints", "step-2")));
        var sibling = Path.Combine(Path.GetTempPath(), "tuneforge-data-other", "model");
        Assert.Equal(sibling, DataPaths.ToStored(DataDir, sibling));
        var outside = Path.Combine(Path.GetTempPath(), "models", "llama");
        Assert.Equal(outside, DataPaths.ToStored(DataDir, outside));
        Assert.Equal(outside, DataPaths.ToStored(DataDir, Path.Combine(DataDir, "..", "models", "llama")));

        Assert.Equal(Path.Combine(DataDir, "files", "file-1"), DataPaths.Resolve(DataDir, "files/file-1"));
        Assert.Equal(outside, DataPaths.Resolve(DataDir, outside));
    }

    [Fact]
    public async Task Files_models_jobs_checkpoints_and_upload_parts_written_before_the_data_directory_moved_are_found_at_its_new_path()
    {
        var root = Path.Combine(Path.GetTempPath(), "tuneforge-core-tests", Guid.NewGuid().ToString("N"));
        var first = Path.Combine(root, "first");
        var second = Path.Combine(root, "second");
        var outsideModel = Path.Combine(root, "models", "llama"); // a base model under --models-dir, outside the data dir
        byte[] content = [1, 2, 3, 250];
        string orgId, fileId;
        try
        {
            using (var db = Database.Open(first))
            {
                orgId = new SqliteAccountStore(db).AddKey("key-" + Guid.NewGuid(), "org-paths").Id;
                var store = new FileStore(first);
                fileId = new FileService(new SqliteFileRepository(db), store)
                    .Register(orgId, await store.ReceiveAsync(new MemoryStream(content), 1000, CancellationToken.None), "a.jsonl", "fine-tune").Id;

                var adapter = Path.Combine(first, "jobs", "ftjob-1", "checkpoints", "step-2");
                Directory.CreateDirectory(adapter);
                File.WriteAllText(Path.Combine(adapter, "adapter_config.json"), "{}");
                var tiny = Path.Combine(first, "models", "tuneforge-tiny");
                var models = new SqliteModelRepository(db);
                models.Insert(new FineTunedModel("ft:tiny:org-paths::a", orgId, "ftjob-1", "tuneforge-tiny", tiny, adapter, null, 1));
                models.Insert(new FineTunedModel("ft:llama:org-paths::b", orgId, "ftjob-2", "llama", outsideModel, adapter, null, 1));

                var writer = new SqliteJobRepository(db);
                writer.Insert(new FineTuningJob("ftjob-1", orgId, "tuneforge-tiny", tiny, fileId, null, null, 1, "supervised",
                    RequestedHyperparameters.Auto, RequestedHyperparameters.Auto, null, null, JobStatus.Running, 1, null,
                    "ft:tiny:org-paths::a", null, null, null, null, [], 0));
                writer.AddCheckpoint(new JobCheckpoint("ftckpt-1", "ftjob-1", 2, 1, 1, "ft:tiny:org-paths::a:ckpt-step-2", adapter, "{}"));

                var uploads = new SqliteUploadRepository(db);
                uploads.Insert(new Upload("upload-1", orgId, "big.jsonl", "fine-tune", 4, "text/jsonl", UploadStatus.Pending, 1, 100, null));
                var part = await store.ReceiveAsync(new MemoryStream(content), 1000, CancellationToken.None);
                uploads.AddPart(new UploadPart("part-1", "upload-1", 1, 4, store.Commit(part, "part-1")));

                using var connection = db.Connect();
                Assert.Equal($"files/{fileId}", connection.Query("SELECT path FROM files", r => r.String("path")).Single());
                Assert.Equal("jobs/ftjob-1/checkpoints/step-2", connection.Query("SELECT directory FROM checkpoints", r => r.String("directory")).Single());
                Assert.Equal("models/tuneforge-tiny", connection.Query("SELECT base_model_dir FROM jobs", r => r.String("base_model_dir")).Single());
                Assert.Equal(outsideModel, connection.Query("SELECT base_model_dir FROM models WHERE id = 'ft:llama:org-paths::b'", r => r.String("base_model_dir")).Single());
            }
            SqliteConnection.ClearAllPools();
            Directory.Move(first, second);

            using var moved = Database.Open(second);
            var file = new SqliteFileRepository(moved).Get(orgId, fileId)!;
            Assert.Equal(Path.Combine(second, "files", fileId), file.Path);
            Assert.Equal(content, File.ReadAllBytes(file.Path));

            var model = new SqliteModelRepository(moved).Get(orgId, "ft:tiny:org-paths::a")!;
            Assert.Equal(Path.Combine(second, "models", "tuneforge-tiny"), model.BaseModelDir);
            Assert.True(File.Exists(Path.Combine(model.AdapterDir, "adapter_config.json")), model.AdapterDir);
            Assert.Equal(outsideModel, new SqliteModelRepository(moved).Get(orgId, "ft:llama:org-paths::b")!.BaseModelDir);

            var jobs = new SqliteJobRepository(moved);
            Assert.Equal(Path.Combine(second, "models", "tuneforge-tiny"), jobs.Get("ftjob-1")!.BaseModelDir);
            Assert.Equal(model.AdapterDir, jobs.ListCheckpoints("ftjob-1", null, 10).Items.Single().Directory);
            Assert.Equal(content, File.ReadAllBytes(new SqliteUploadRepository(moved).Parts("upload-1").Single().Path));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public void A_row_written_with_an_absolute_path_is_read_back_unchanged()
    {
        using var data = new TempDataDir();
        using (var connection = data.Db.Connect())
            connection.Run("INSERT INTO files (id, organization_id, filename, purpose, bytes, created_at, path) VALUES ('file-old', @org, 'a', 'fine-tune', 1, 1, @path)",
                ("@org", data.Organization.Id), ("@path", Path.Combine(data.Path, "files", "file-old")));
        Assert.Equal(Path.Combine(data.Path, "files", "file-old"), new SqliteFileRepository(data.Db).Get(data.Organization.Id, "file-old")!.Path);
    }
}
