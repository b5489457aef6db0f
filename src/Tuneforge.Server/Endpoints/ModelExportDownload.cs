using Microsoft.AspNetCore.Http;
using Tuneforge.Core;
using Tuneforge.Core.Files;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Models;
using Tuneforge.Engine.Training;
using Tuneforge.Server.Http;

namespace Tuneforge.Server.Endpoints;

/// <summary>
/// <c>GET /v1/models/{model}/export</c>: the organisation's fine-tuned (or checkpoint, or aliased) model as a zip
/// (<see cref="AdapterArchive"/>: the PEFT adapter folder and tokenizer, plus the job's <c>step_metrics.csv</c> when it
/// has one). Another organisation's model is the usual 404; a base model has no adapter and is a 400.
/// </summary>
public static class ModelExportDownload
{
    public static IResult Handle(HttpContext context, ModelRegistry registry, JobService jobs, FileService files, string id)
    {
        var organization = ApiKeyAuthentication.OrganizationOf(context);
        var modelId = RouteId.Decode(id);
        var model = registry.Get(organization.Id, organization.Name, modelId);
        if (model.AdapterDir is null)
            throw ApiProblem.BadRequest($"The model `{modelId}` is a base model: only fine-tuned models have an adapter to export.", "model", "model_not_exportable");
        if (!Directory.Exists(model.AdapterDir))
            throw new ApiProblem(500, $"The adapter of `{modelId}` is missing from this node's disk (expected at {model.AdapterDir}); " +
                "check that --data-dir is the directory the model was trained into.", "model", "model_files_missing", "server_error");

        // Written to a temporary file first: a zip needs its central directory at the end, and the download then has a length.
        var path = Path.Combine(Path.GetTempPath(), $"tuneforge-export-{Guid.NewGuid():N}.zip");
        try
        {
            using var zip = File.Create(path);
            AdapterArchive.Write(model.AdapterDir, zip, MetricsOf(registry.TrainedModel(organization.Id, model.Id), organization.Id, jobs, files));
        }
        catch
        {
            File.Delete(path);
            throw;
        }
        var download = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.DeleteOnClose);
        return TypedResults.Stream(download, AdapterArchive.ContentType, AdapterArchive.FileNameFor(modelId));
    }

    /// <summary>The job's metrics file (OpenAI's result file, one row per step) when the job and its file still exist.</summary>
    private static IEnumerable<(string Name, string Path)> MetricsOf(FineTunedModel? model, string organizationId, JobService jobs, FileService files)
    {
        if (model is null) yield break;
        FineTuningJob job;
        try { job = jobs.Get(organizationId, model.JobId); }
        catch (ApiProblem) { yield break; }
        foreach (var fileId in job.ResultFiles.Take(1))
        {
            StoredFile file;
            try { file = files.Get(organizationId, fileId); }
            catch (ApiProblem) { continue; }
            if (File.Exists(file.Path)) yield return (file.Filename, Path.GetFullPath(file.Path));
        }
    }
}
