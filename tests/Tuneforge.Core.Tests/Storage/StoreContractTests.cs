using System.Collections.Concurrent;
using System.Text.Json;
using Tuneforge.Core.Accounts;
using Tuneforge.Core.Connections;
using Tuneforge.Core.Evals;
using Tuneforge.Core.Files;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Models;
using Tuneforge.Core.Reviews;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Tests.Storage;

/// <summary>What every repository promises, on SQLite and on PostgreSQL alike.</summary>
public class StoreContractTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void Opening_the_store_again_keeps_its_data_and_migrates_nothing_twice(Store store)
    {
        using var data = new TempDataDir(store);
        var job = data.AddJob();
        using var again = Database.Open(data.Path, data.DatabaseUrl);
        var stored = new SqliteJobRepository(again).Get(job.Id)!;
        Assert.Equal((job.OrganizationId, job.Status, job.PlannedModelName, job.CreatedAt), (stored.OrganizationId, stored.Status, stored.PlannedModelName, stored.CreatedAt));
    }

    [Fact]
    public void Nodes_starting_together_on_a_new_postgres_database_migrate_it_once()
    {
        var url = PostgresCluster.Shared.CreateDatabase();
        var dir = Directory.CreateTempSubdirectory("tuneforge-core-tests-").FullName;
        try
        {
            var opened = new ConcurrentBag<Database>();
            Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ => opened.Add(Database.Open(dir, url)));
            Assert.Equal(4, opened.Count);
            var organization = new SqliteAccountStore(opened.First()).AddKey("sk-node", "org-nodes");
            Assert.All(opened, db => Assert.Equal(organization, new SqliteAccountStore(db).Authenticate("sk-node")));
            foreach (var db in opened) db.Dispose();
        }
        finally
        {
            PostgresCluster.Shared.DropDatabase(url);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void A_key_authenticates_its_organisation_and_a_reseeded_key_moves_to_the_one_named_now(Store store)
    {
        using var data = new TempDataDir(store);
        var accounts = new SqliteAccountStore(data.Db);
        var first = accounts.AddKey("sk-one", "org-a");
        Assert.Equal(first, accounts.AddKey("sk-two", "org-a"));
        Assert.Equal(first, accounts.Authenticate("sk-two"));
        var other = accounts.AddKey("sk-one", "org-b");
        Assert.NotEqual(first.Id, other.Id);
        Assert.Equal(other, accounts.Authenticate("sk-one"));
        Assert.Null(accounts.Authenticate("sk-three"));
        Assert.Equal(3, accounts.KeyCount()); // the two above and TempDataDir's own
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void Files_page_in_both_directions_filter_by_purpose_and_stay_within_their_organisation(Store store)
    {
        using var data = new TempDataDir(store);
        var files = new SqliteFileRepository(data.Db);
        var ids = Enumerable.Range(0, 5).Select(i =>
        {
            var file = new StoredFile(Ids.File(), data.Organization.Id, $"f{i}.jsonl", i == 2 ? "evals" : "fine-tune", 10 + i, 1000 + i, null, $"/x/{i}");
            files.Insert(file);
            return file.Id;
        }).ToList();

        var newest = files.List(data.Organization.Id, null, null, 2, ascending: false);
        Assert.Equal([ids[4], ids[3]], newest.Items.Select(f => f.Id));
        Assert.True(newest.HasMore);
        var rest = files.List(data.Organization.Id, null, ids[3], 10, ascending: false);
        Assert.Equal([ids[2], ids[1], ids[0]], rest.Items.Select(f => f.Id));
        Assert.False(rest.HasMore);
        Assert.Equal([ids[3], ids[4]], files.List(data.Organization.Id, null, ids[2], 10, ascending: true).Items.Select(f => f.Id));
        Assert.Equal([ids[2]], files.List(data.Organization.Id, "evals", null, 10, ascending: true).Items.Select(f => f.Id));
        Assert.Equal(12, files.Get(data.Organization.Id, ids[2])!.Bytes);

        var stranger = new SqliteAccountStore(data.Db).AddKey("sk-stranger", "org-stranger");
        Assert.Null(files.Get(stranger.Id, ids[0]));
        Assert.False(files.Delete(stranger.Id, ids[0]));
        Assert.True(files.Delete(data.Organization.Id, ids[0]));
        Assert.Null(files.Get(data.Organization.Id, ids[0]));
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void Jobs_filter_by_metadata_keys_taken_literally(Store store)
    {
        using var data = new TempDataDir(store);
        Job(data, new() { ["team.name"] = "red", ["env"] = "prod" });
        var blue = Job(data, new() { ["team.name"] = "blue", ["env"] = "prod" });
        var bare = Job(data, null);

        var org = data.Organization.Id;
        Assert.Equal([blue.Id], data.Jobs.List(org, null, 10, new Dictionary<string, string> { ["team.name"] = "blue" }).Items.Select(j => j.Id));
        Assert.Equal(2, data.Jobs.List(org, null, 10, new Dictionary<string, string> { ["env"] = "prod" }).Items.Count);
        Assert.Equal([bare.Id], data.Jobs.List(org, null, 10, new Dictionary<string, string>()).Items.Select(j => j.Id));
        Assert.Equal(3, data.Jobs.List(org, null, 10, null).Items.Count);
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void Models_are_replaced_by_id_deleted_with_their_checkpoints_and_aliased(Store store)
    {
        using var data = new TempDataDir(store);
        var models = new SqliteModelRepository(data.Db);
        var org = data.Organization.Id;
        var model = new FineTunedModel("ft:tiny:org::a", org, "job-1", "tiny", "/m", "/a", null, 100);
        models.Insert(model with { AdapterDir = "/old" });
        models.Insert(model);
        models.Insert(new FineTunedModel("ft:tiny:org::a:ckpt-step-1", org, "job-1", "tiny", "/m", "/c1", model.Id, 101));
        models.Insert(new FineTunedModel("ft:tiny:org::b", org, "job-2", "tiny", "/m", "/b", null, 102));
        Assert.Equal(model, models.Get(org, model.Id));
        Assert.Equal(3, models.List(org).Count);

        var aliases = new SqliteModelAliasRepository(data.Db);
        aliases.Upsert(new ModelAlias(org, "ft:gpt-4o-mini:acme::X", "ft:tiny:org::b", 5));
        aliases.Upsert(new ModelAlias(org, "ft:gpt-4o-mini:acme::X", model.Id, 6));
        Assert.Equal(model.Id, aliases.Get(org, "ft:gpt-4o-mini:acme::X")!.ModelId);
        Assert.Single(aliases.List(org));

        Assert.Equal(2, models.DeleteWithCheckpoints(org, model.Id).Count);
        Assert.Equal(["ft:tiny:org::b"], models.List(org).Select(m => m.Id));
        Assert.True(aliases.Delete(org, "ft:gpt-4o-mini:acme::X"));
        Assert.Null(aliases.Get(org, "ft:gpt-4o-mini:acme::X"));
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void Connections_keep_their_key_sealed_and_refuse_a_second_of_the_same_name(Store store)
    {
        using var data = new TempDataDir(store);
        var connections = new ConnectionStore(data.Db, SecretCipher.WithKey(new byte[32], "test key"));
        var org = data.Organization.Id;
        connections.Create(org, "openai", "https://api.example.com/v1", "sk-remote-secret-1234");
        var duplicate = Assert.Throws<ApiProblem>(() => connections.Create(org, "openai", "https://api.example.com/v1", "sk-other-key-0000"));
        Assert.Equal("name", duplicate.Param);
        Assert.Equal("sk-remote-secret-1234", connections.Endpoint(org, "openai")!.ApiKey);
        Assert.Equal(["openai"], connections.List(org).Select(c => c.Name));
        connections.Delete(org, "openai");
        Assert.Empty(connections.List(org));
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void Concurrent_eval_workers_never_claim_the_same_run_and_a_row_counts_once(Store store)
    {
        using var data = new TempDataDir(store);
        var evals = new SqliteEvalRepository(data.Db);
        var queue = new SqliteEvalRunQueue(data.Db);
        var org = data.Organization.Id;
        var empty = JsonDocument.Parse("{}").RootElement;
        var eval = new Eval("eval_" + Guid.NewGuid().ToString("N"), org, "e", null, empty, JsonDocument.Parse("[]").RootElement, 1, 1);
        evals.Insert(eval);
        var runIds = Enumerable.Range(0, 12).Select(i =>
        {
            var run = new EvalRun($"evalrun_{i}_{Guid.NewGuid():N}", eval.Id, org, $"run {i}", "tiny", null, empty, EvalRunStatus.Queued, 1,
                EvalRunCounts.Zero, null, null, null, 0);
            evals.InsertRun(run, [new EvalRow(empty, null)]);
            return run.Id;
        }).ToHashSet();

        var claimed = new ConcurrentBag<string>();
        Parallel.For(0, 6, new ParallelOptions { MaxDegreeOfParallelism = 6 }, worker =>
        {
            var lease = new Lease($"w{worker}", "host", 100 + worker);
            while (queue.Claim(lease, Lease) is { } run) claimed.Add(run.Id);
        });
        Assert.Equal(runIds.Count, claimed.Count);
        Assert.Equal(runIds, claimed.ToHashSet());

        var held = evals.GetRun(runIds.First())!;
        var owner = Enumerable.Range(0, 6).Select(w => $"w{w}").First(w => queue.Heartbeat(held.Id, w, Lease));
        var item = new EvalOutputItem("outputitem_" + Guid.NewGuid().ToString("N"), held.Id, eval.Id, 2, OutputItemStatus.Pass, 0, empty, empty, empty);
        var tally = new RowTally(OutputItemStatus.Pass, [("exact", true)], [new ModelUsage("tiny", 1, 3, 4, 7, 0)]);
        Assert.Equal(RowStore.NotHeld, queue.Store("someone-else", item, tally));
        Assert.Equal(RowStore.Stored, queue.Store(owner, item, tally));
        Assert.Equal(RowStore.AlreadyGraded, queue.Store(owner, item with { Id = "outputitem_" + Guid.NewGuid().ToString("N") }, tally));
        Assert.Equal(new HashSet<int> { 0 }, evals.GradedRows(held.Id));
        Assert.True(queue.Finish(held.Id, owner, EvalRunStatus.Completed, null));

        var finished = evals.GetRun(held.Id)!;
        Assert.Equal(new EvalRunCounts(1, 0, 0, 1), finished.Counts);
        Assert.Equal([new CriterionCounts("exact", 1, 0)], finished.PerTestingCriteria);
        Assert.Equal(EvalRunStatus.Completed, finished.Status);
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void A_reviewer_judges_each_item_once_and_a_new_judgement_replaces_the_old_with_a_later_revision(Store store)
    {
        using var data = new TempDataDir(store);
        var reviews = new SqliteReviewRepository(data.Db);
        var set = new ReviewSet("rset_" + Guid.NewGuid().ToString("N"), data.Organization.Id, "s", JsonDocument.Parse("{}").RootElement,
            ["m1", "m2"], 2, null, 1);
        var items = Enumerable.Range(0, 2).Select(i => new ReviewItem($"ritem_{i}_{Guid.NewGuid():N}", set.Id, i,
            [new EvalMessage("user", $"q{i}")], [new ReviewAnswer("m1", "a"), new ReviewAnswer("m2", "b")])).ToList();
        reviews.Insert(set, items);

        Assert.Equal(items[0].Id, reviews.NextUnjudged(set.Id, "ann")!.Id);
        var tie = reviews.Upsert(new Review("rev_" + Guid.NewGuid().ToString("N"), set.Id, items[0].Id, 0, "ann", ReviewChoice.Tie, null, null, 5, 0, null));
        Assert.Null(tie.ChosenModel);
        Assert.Equal(items[1].Id, reviews.NextUnjudged(set.Id, "ann")!.Id);
        var changed = reviews.Upsert(new Review("rev_" + Guid.NewGuid().ToString("N"), set.Id, items[0].Id, 0, "ann", ReviewChoice.B, 1, "better", 6, 0, null));
        Assert.Equal("m2", changed.ChosenModel);
        Assert.True(changed.Revision > tie.Revision);
        Assert.Equal(1, reviews.JudgedCount(set.Id, "ann"));
        Assert.Equal([changed], reviews.ListReviews(set.Id, null, new ListCursor(null, 10, true)).Items);
        Assert.Empty(reviews.ListReviews(set.Id, "bob", new ListCursor(null, 10, true)).Items);
        Assert.Equal(set.Id, Assert.Single(reviews.List(data.Organization.Id, new ListCursor(null, 10, false)).Items).Id);
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void Reviewers_judging_at_once_each_get_a_revision_of_their_own(Store store)
    {
        using var data = new TempDataDir(store);
        var reviews = new SqliteReviewRepository(data.Db);
        var set = new ReviewSet("rset_" + Guid.NewGuid().ToString("N"), data.Organization.Id, "s", JsonDocument.Parse("{}").RootElement,
            ["m1", "m2"], 1, null, 1);
        var item = new ReviewItem("ritem_" + Guid.NewGuid().ToString("N"), set.Id, 0, [new EvalMessage("user", "q")],
            [new ReviewAnswer("m1", "a"), new ReviewAnswer("m2", "b")]);
        reviews.Insert(set, [item]);

        // 8 reviewers (as on several API nodes) judge together, 5 times each: no two judgements share a revision.
        var revisions = new ConcurrentBag<long>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, reviewer =>
        {
            for (var i = 0; i < 5; i++)
                revisions.Add(reviews.Upsert(new Review("rev_" + Guid.NewGuid().ToString("N"), set.Id, item.Id, 0, $"r{reviewer}",
                    ReviewChoice.Tie, null, null, i, 0, null)).Revision);
        });
        Assert.Equal(40, revisions.Distinct().Count());
    }

    [Theory]
    [InlineData("postgres://tf:p%40ss@db.internal:6543/tuneforge", "db.internal", 6543, "tuneforge", "tf", "p@ss")]
    [InlineData("postgresql://tf@localhost/tf_main", "localhost", 5432, "tf_main", "tf", null)]
    public void A_postgres_url_becomes_an_npgsql_connection_string(string url, string host, int port, string database, string user, string? password)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(DatabaseUrl.ToPostgresConnectionString(url));
        Assert.Equal((host, port, database, user, password), (builder.Host, builder.Port, builder.Database, builder.Username, builder.Password));
        Assert.Null(DatabaseUrl.ToPostgresConnectionString(null));
    }

    [Theory]
    [InlineData("mysql://tf@localhost/tf")]
    [InlineData("postgres://localhost/tf")]
    [InlineData("postgres://tf:secret@localhost")]
    [InlineData("postgres://tf@localhost/tf?no_such_setting=1")]
    [InlineData("not a url")]
    public void A_malformed_database_url_is_refused_naming_the_option_and_hiding_the_password(string url)
    {
        var e = Assert.Throws<FormatException>(() => DatabaseUrl.ToPostgresConnectionString(url));
        Assert.Contains("--database", e.Message);
        Assert.DoesNotContain("secret", e.Message);
    }

    private static FineTuningJob Job(TempDataDir data, Dictionary<string, string>? metadata) => data.AddJob(metadata: metadata);
}
