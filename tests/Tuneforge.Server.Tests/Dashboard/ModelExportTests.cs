using System.IO.Compression;
using System.Net;
using Microsoft.Playwright;
using Tuneforge.Engine;
using Tuneforge.Engine.Modeling;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests.Dashboard;

/// <summary>
/// Exporting a fine-tune: <c>GET /v1/models/{model}/export</c> and the job page's Export button, on the fixture's
/// finished job (no training of its own).
/// </summary>
public partial class DashboardTests
{
    [Fact]
    public async Task The_job_page_exports_the_fine_tune_as_a_zip_of_a_loadable_adapter_only_to_its_organisation()
    {
        var model = fixture.FineTunedModel;
        var route = $"models/{Uri.EscapeDataString(model)}/export";
        using var http = fixture.Http();
        byte[] archive;
        using (var response = await http.GetAsync(route))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(model.Replace(':', '_') + ".zip", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
            archive = await response.Content.ReadAsByteArrayAsync();
        }
        var folder = Unzip(archive, "api");
        Assert.True(File.Exists(Path.Combine(folder, "tokenizer.json")), "the tokenizer travels with the adapter");
        // The job's metrics, one row per step, as the result file has them.
        var metrics = File.ReadAllLines(Path.Combine(folder, "step_metrics.csv"));
        Assert.StartsWith("step,", metrics[0]);
        Assert.True(metrics.Length > 1);
        AssertLoadableTrainedAdapter(folder);

        // Another organisation's model does not exist for it; a base model has no adapter.
        using (var other = fixture.Http(ServiceFixture.KeyB))
        using (var refused = await other.GetAsync(route))
            await ErrorAssert.EnvelopeAsync(refused, HttpStatusCode.NotFound, param: "model", code: "model_not_found");
        using (var baseModel = await http.GetAsync("models/tuneforge-tiny/export"))
            await ErrorAssert.EnvelopeAsync(baseModel, HttpStatusCode.BadRequest, param: "model", code: "model_not_exportable");

        // The dashboard's Export button downloads the same archive with the signed-in key.
        var page = await fixture.SignedInPageAsync($"/jobs/{fixture.FinishedJobId}");
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export-model"));
        Assert.Equal(model.Replace(':', '_') + ".zip", download.SuggestedFilename);
        var saved = Path.Combine(fixture.Service.DataDir, "downloaded-export.zip");
        await download.SaveAsAsync(saved);
        var fromPage = Unzip(await File.ReadAllBytesAsync(saved), "page");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(folder, "adapter_model.safetensors")),
            await File.ReadAllBytesAsync(Path.Combine(fromPage, "adapter_model.safetensors")));
        AssertLoadableTrainedAdapter(fromPage);
        fixture.AssertOnlyOwnOrigin();
    }

    private string Unzip(byte[] archive, string name)
    {
        var folder = Path.Combine(fixture.Service.DataDir, "exported-" + name);
        using var zip = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
        zip.ExtractToDirectory(folder, overwriteFiles: true);
        return folder;
    }

    /// <summary>The engine reads the folder as a PEFT LoRA adapter whose B factors moved off their zero start: it was trained.</summary>
    private static void AssertLoadableTrainedAdapter(string folder)
    {
        TorchRuntime.Initialize(1);
        using var adapter = PeftAdapterFolder.Read(folder);
        Assert.NotEmpty(adapter.Modules);
        Assert.Contains(adapter.Modules.Values, w => w.B.abs().sum().item<float>() > 0);
    }
}
