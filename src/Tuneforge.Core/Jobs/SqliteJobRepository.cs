using System.Text;
using System.Text.Json;
using System.Data.Common;
using Tuneforge.Core.Files;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Jobs;

public sealed class SqliteJobRepository(Database db) : IJobRepository
{
    private const string JobColumns =
        "id, organization_id, model, base_model_dir, training_file, validation_file, suffix, seed, method_type, " +
        "requested_n_epochs, requested_batch_size, requested_learning_rate_multiplier, n_epochs, batch_size, learning_rate_multiplier, " +
        "metadata, integrations, status, created_at, finished_at, planned_model_name, fine_tuned_model, trained_tokens, " +
        "estimated_finish, error_code, error_message, error_param, result_files, attempts";

    public void Insert(FineTuningJob job)
    {
        using var connection = db.Connect();
        connection.Run(
            $"INSERT INTO jobs ({JobColumns}) VALUES (@id, @org, @model, @dir, @train, @valid, @suffix, @seed, @method, " +
            "@re, @rb, @rl, @e, @b, @l, @metadata, @integrations, @status, @created, NULL, @planned, NULL, NULL, NULL, NULL, NULL, NULL, '[]', 0)",
            ("@id", job.Id), ("@org", job.OrganizationId), ("@model", job.Model), ("@dir", DataPaths.ToStored(db.DataDir, job.BaseModelDir)),
            ("@train", job.TrainingFile), ("@valid", job.ValidationFile), ("@suffix", job.Suffix), ("@seed", job.Seed),
            ("@method", job.MethodType), ("@re", job.Requested.Epochs), ("@rb", job.Requested.BatchSize),
            ("@rl", job.Requested.LearningRateMultiplier), ("@e", job.Resolved.Epochs), ("@b", job.Resolved.BatchSize),
            ("@l", job.Resolved.LearningRateMultiplier),
            ("@metadata", job.Metadata is null ? null : JsonSerializer.Serialize(job.Metadata)),
            ("@integrations", job.IntegrationsJson), ("@status", job.Status), ("@created", job.CreatedAt), ("@planned", job.PlannedModelName));
    }

    public FineTuningJob? Get(string organizationId, string jobId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {JobColumns} FROM jobs WHERE id = @id AND organization_id = @org", ReadJob,
            ("@id", jobId), ("@org", organizationId)).FirstOrDefault();
    }

    public FineTuningJob? Get(string jobId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {JobColumns} FROM jobs WHERE id = @id", ReadJob, ("@id", jobId)).FirstOrDefault();
    }

    public Page<FineTuningJob> List(string organizationId, string? after, int limit, IReadOnlyDictionary<string, string>? metadata)
    {
        var sql = new StringBuilder($"SELECT {JobColumns} FROM jobs WHERE organization_id = @org ");
        var parameters = new List<(string, object?)> { ("@org", organizationId), ("@after", after), ("@limit", limit + 1) };
        sql.Append("AND (CAST(@after AS TEXT) IS NULL OR seq < (SELECT seq FROM jobs WHERE id = @after AND organization_id = @org)) ");
        if (metadata is { Count: 0 }) sql.Append("AND metadata IS NULL ");
        var i = 0;
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            sql.Append($"AND {db.Dialect.JsonMember("metadata", $"@path{i}")} = @value{i} ");
            parameters.Add(($"@path{i}", db.Dialect.JsonMemberParameter(key)));
            parameters.Add(($"@value{i}", value));
            i++;
        }
        sql.Append("ORDER BY seq DESC LIMIT @limit");
        using var connection = db.Connect();
        var rows = connection.Query(sql.ToString(), ReadJob, parameters.ToArray());
        var hasMore = rows.Count > limit;
        if (hasMore) rows.RemoveAt(rows.Count - 1);
        return new Page<FineTuningJob>(rows, hasMore);
    }

    public bool TryMove(string jobId, IReadOnlyCollection<string> from, string to, JobError? error = null)
    {
        var finished = JobStatus.IsTerminal(to) ? Clock.NowSeconds() : (long?)null;
        var statuses = string.Join(", ", from.Select((_, i) => $"@from{i}"));
        var parameters = new List<(string, object?)>
        {
            ("@id", jobId), ("@to", to), ("@finished", finished),
            ("@code", error?.Code), ("@message", error?.Message), ("@param", error?.Param),
        };
        parameters.AddRange(from.Select((s, i) => ($"@from{i}", (object?)s)));
        using var connection = db.Connect();
        return connection.Run(
            $"UPDATE jobs SET status = @to, finished_at = COALESCE(@finished, finished_at), estimated_finish = NULL, " +
            "error_code = COALESCE(@code, error_code), error_message = COALESCE(@message, error_message), error_param = COALESCE(@param, error_param) " +
            $"WHERE id = @id AND status IN ({statuses})", parameters.ToArray()) > 0;
    }

    public void SetResolvedHyperparameters(string jobId, RequestedHyperparameters resolved)
    {
        using var connection = db.Connect();
        connection.Run("UPDATE jobs SET n_epochs = @e, batch_size = @b, learning_rate_multiplier = @l WHERE id = @id",
            ("@id", jobId), ("@e", resolved.Epochs), ("@b", resolved.BatchSize), ("@l", resolved.LearningRateMultiplier));
    }

    public void SetEstimatedFinish(string jobId, long? estimatedFinish)
    {
        using var connection = db.Connect();
        connection.Run("UPDATE jobs SET estimated_finish = @t WHERE id = @id AND status = 'running'", ("@id", jobId), ("@t", estimatedFinish));
    }

    public bool Complete(string jobId, string leaseOwner, string fineTunedModel, long trainedTokens, IReadOnlyList<string> resultFiles)
    {
        using var connection = db.Connect();
        return connection.Run(
            "UPDATE jobs SET status = 'succeeded', finished_at = @now, estimated_finish = NULL, fine_tuned_model = @model, " +
            "trained_tokens = @tokens, result_files = @files WHERE id = @id AND status = 'running' AND lease_owner = @owner",
            ("@id", jobId), ("@owner", leaseOwner), ("@now", Clock.NowSeconds()), ("@model", fineTunedModel),
            ("@tokens", trainedTokens), ("@files", JsonSerializer.Serialize(resultFiles))) > 0;
    }

    public JobEvent AddEvent(string jobId, string level, string message, string type = "message", string? dataJson = null)
    {
        var e = new JobEvent(Ids.Event(), jobId, Clock.NowSeconds(), level, message, type, dataJson);
        using var connection = db.Connect();
        connection.Run("INSERT INTO job_events (id, job_id, created_at, level, message, type, data) VALUES (@id, @job, @t, @level, @message, @type, @data)",
            ("@id", e.Id), ("@job", jobId), ("@t", e.CreatedAt), ("@level", level), ("@message", message), ("@type", type), ("@data", dataJson));
        return e;
    }

    public Page<JobEvent> ListEvents(string jobId, string? after, int limit)
    {
        using var connection = db.Connect();
        var rows = connection.Query(
            "SELECT id, job_id, created_at, level, message, type, data FROM job_events WHERE job_id = @job " +
            "AND (CAST(@after AS TEXT) IS NULL OR seq < (SELECT seq FROM job_events WHERE id = @after AND job_id = @job)) ORDER BY seq DESC LIMIT @limit",
            ReadEvent, ("@job", jobId), ("@after", after), ("@limit", limit + 1));
        var hasMore = rows.Count > limit;
        if (hasMore) rows.RemoveAt(rows.Count - 1);
        return new Page<JobEvent>(rows, hasMore);
    }

    public IReadOnlyList<JobEvent> MetricsEvents(string jobId)
    {
        using var connection = db.Connect();
        return connection.Query(
            "SELECT id, job_id, created_at, level, message, type, data FROM job_events WHERE job_id = @job AND type = 'metrics' ORDER BY seq",
            ReadEvent, ("@job", jobId));
    }

    public void AddCheckpoint(JobCheckpoint c)
    {
        using var connection = db.Connect();
        connection.Run(
            "INSERT INTO checkpoints (id, job_id, step, epoch, created_at, model_id, directory, metrics) VALUES (@id, @job, @step, @epoch, @t, @model, @dir, @metrics)",
            ("@id", c.Id), ("@job", c.JobId), ("@step", c.Step), ("@epoch", c.Epoch), ("@t", c.CreatedAt),
            ("@model", c.ModelId), ("@dir", DataPaths.ToStored(db.DataDir, c.Directory)), ("@metrics", c.MetricsJson));
    }

    public Page<JobCheckpoint> ListCheckpoints(string jobId, string? after, int limit)
    {
        using var connection = db.Connect();
        var rows = connection.Query(
            "SELECT id, job_id, step, epoch, created_at, model_id, directory, metrics FROM checkpoints WHERE job_id = @job " +
            "AND (CAST(@after AS TEXT) IS NULL OR step < (SELECT step FROM checkpoints WHERE id = @after AND job_id = @job)) ORDER BY step DESC, seq DESC LIMIT @limit",
            ReadCheckpoint, ("@job", jobId), ("@after", after), ("@limit", limit + 1));
        var hasMore = rows.Count > limit;
        if (hasMore) rows.RemoveAt(rows.Count - 1);
        return new Page<JobCheckpoint>(rows, hasMore);
    }

    public IReadOnlyList<JobCheckpoint> PruneCheckpoints(string jobId, int keep)
    {
        using var connection = db.Connect();
        using var transaction = connection.BeginTransaction();
        var old = connection.Query(
            "SELECT id, job_id, step, epoch, created_at, model_id, directory, metrics FROM checkpoints WHERE job_id = @job " +
            $"ORDER BY step DESC, seq DESC {db.Dialect.NoLimit} OFFSET @keep", ReadCheckpoint, ("@job", jobId), ("@keep", keep));
        foreach (var c in old)
        {
            connection.Run("DELETE FROM checkpoints WHERE id = @id", ("@id", c.Id));
            connection.Run("DELETE FROM models WHERE id = @id", ("@id", c.ModelId));
        }
        transaction.Commit();
        return old;
    }

    private FineTuningJob ReadJob(DbDataReader r)
    {
        var metadata = r.NullableString("metadata");
        var errorCode = r.NullableString("error_code");
        return new FineTuningJob(
            r.String("id"), r.String("organization_id"), r.String("model"), DataPaths.Resolve(db.DataDir, r.String("base_model_dir")), r.String("training_file"),
            r.NullableString("validation_file"), r.NullableString("suffix"), r.Int("seed"), r.String("method_type"),
            new RequestedHyperparameters((int?)r.NullableLong("requested_n_epochs"), (int?)r.NullableLong("requested_batch_size"),
                r.NullableDouble("requested_learning_rate_multiplier")),
            new RequestedHyperparameters((int?)r.NullableLong("n_epochs"), (int?)r.NullableLong("batch_size"), r.NullableDouble("learning_rate_multiplier")),
            metadata is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(metadata),
            r.NullableString("integrations"), r.String("status"), r.Long("created_at"), r.NullableLong("finished_at"),
            r.String("planned_model_name"), r.NullableString("fine_tuned_model"), r.NullableLong("trained_tokens"),
            r.NullableLong("estimated_finish"),
            errorCode is null ? null : new JobError(errorCode, r.NullableString("error_message") ?? "", r.NullableString("error_param")),
            JsonSerializer.Deserialize<List<string>>(r.String("result_files")) ?? [], r.Int("attempts"));
    }

    private static JobEvent ReadEvent(DbDataReader r) => new(
        r.String("id"), r.String("job_id"), r.Long("created_at"), r.String("level"), r.String("message"), r.String("type"), r.NullableString("data"));

    private JobCheckpoint ReadCheckpoint(DbDataReader r) => new(
        r.String("id"), r.String("job_id"), r.Int("step"), r.Int("epoch"), r.Long("created_at"), r.String("model_id"),
        DataPaths.Resolve(db.DataDir, r.String("directory")), r.String("metrics"));
}
