using Microsoft.Data.Sqlite;
using Tuneforge.Core.Accounts;
using Tuneforge.Core.Files;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Tests.Storage;

public class StorageTests
{
    [Fact]
    public void Opening_an_existing_database_again_keeps_its_data_and_uses_wal()
    {
        using var data = new TempDataDir();
        var job = data.AddJob();
        var again = Database.Open(data.Path);
        using var connection = again.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar());
        Assert.NotNull(new Core.Jobs.SqliteJobRepository(again).Get(job.Id));
    }

    [Fact]
    public void Api_keys_are_stored_only_as_hashes()
    {
        using var data = new TempDataDir();
        var accounts = new SqliteAccountStore(data.Db);
        var org = accounts.AddKey("sk-very-secret-key", "org-hash");
        Assert.Equal(org, accounts.Authenticate("sk-very-secret-key"));
        Assert.Null(accounts.Authenticate("sk-very-secret-kez"));

        SqliteConnection.ClearAllPools();
        var raw = File.ReadAllBytes(data.Db.Path).Concat(File.Exists(data.Db.Path + "-wal") ? File.ReadAllBytes(data.Db.Path + "-wal") : []).ToArray();
        Assert.DoesNotContain("sk-very-secret-key", System.Text.Encoding.UTF8.GetString(raw));
    }

    [Fact]
    public void Seeded_keys_parse_and_bad_entries_are_rejected()
    {
        Assert.Equal([("k1", "org-a"), ("k:2", "org-b")], ApiKeys.ParseSeed("k1:org-a, k:2:org-b"));
        Assert.Throws<FormatException>(() => ApiKeys.ParseSeed("no-organisation"));
        Assert.Throws<FormatException>(() => ApiKeys.CheckOrganizationName("bad:name"));
    }

    [Fact]
    public async Task An_upload_over_the_limit_leaves_nothing_behind_and_a_complete_one_is_renamed_into_place()
    {
        using var data = new TempDataDir();
        var store = new FileStore(data.Path);
        await Assert.ThrowsAsync<UploadTooLargeException>(() => store.ReceiveAsync(new MemoryStream(new byte[2000]), 1000, CancellationToken.None));
        Assert.Empty(Directory.GetFiles(store.Root, "*", SearchOption.AllDirectories));

        var files = new FileService(new SqliteFileRepository(data.Db), store);
        var incoming = await store.ReceiveAsync(new MemoryStream([1, 2, 3]), 1000, CancellationToken.None);
        var file = files.Register(data.Organization.Id, incoming, "a.jsonl", "fine-tune");
        Assert.Equal([1, 2, 3], File.ReadAllBytes(file.Path));
        Assert.False(File.Exists(incoming.TempPath));

        var rejected = await store.ReceiveAsync(new MemoryStream([4]), 1000, CancellationToken.None);
        Assert.Throws<ApiProblem>(() => files.Register(data.Organization.Id, rejected, "b.jsonl", "not-a-purpose"));
        Assert.False(File.Exists(rejected.TempPath));
    }

    [Fact]
    public void Files_of_another_organisation_are_invisible()
    {
        using var data = new TempDataDir();
        var repository = new SqliteFileRepository(data.Db);
        var other = new SqliteAccountStore(data.Db).AddKey("other-key", "org-other");
        repository.Insert(new StoredFile("file-1", data.Organization.Id, "a", "fine-tune", 1, 1, null, "/x"));
        Assert.Null(repository.Get(other.Id, "file-1"));
        Assert.Empty(repository.List(other.Id, null, null, 10, false).Items);
        Assert.False(repository.Delete(other.Id, "file-1"));
        Assert.NotNull(repository.Get(data.Organization.Id, "file-1"));
    }
}
