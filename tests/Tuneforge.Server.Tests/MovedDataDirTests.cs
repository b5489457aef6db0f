using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>
/// Nodes mount the shared data directory wherever they like: the database names artifacts relative to it, so a data
/// directory moved to another path keeps serving its files and fine-tuned models.
/// </summary>
public class MovedDataDirTests
{
    [Fact]
    public async Task After_the_data_directory_moves_its_files_download_and_its_fine_tuned_model_answers()
    {
        var root = Path.Combine(Path.GetTempPath(), "tuneforge-tests", Guid.NewGuid().ToString("N"));
        var first = Path.Combine(root, "mounted-here");
        var second = Path.Combine(root, "mounted-there");
        const string keys = "move-key:org-m";
        var trainingJsonl = JobsApi.ChatJsonl(12);
        string fileId, modelName;
        try
        {
            await using (var before = await ServiceProcess.StartAsync(first, keys))
            {
                using var http = Clients.Http(before, "move-key");
                fileId = await JobsApi.UploadAsync(http, trainingJsonl);
                var jobId = (await JobsApi.CreateJobAsync(http, new
                {
                    model = "tuneforge-tiny", training_file = fileId, seed = 3,
                    method = new { type = "supervised", supervised = new { hyperparameters = new { n_epochs = 1, batch_size = 4 } } },
                })).GetProperty("id").GetString()!;
                var done = await JobsApi.WaitForStatusAsync(http, jobId, s => s is "succeeded" or "failed" or "cancelled", TrainingEndToEndTests.TrainingTimeout, before);
                Assert.True(done.GetProperty("status").GetString() == "succeeded", done.ToString());
                modelName = done.GetProperty("fine_tuned_model").GetString()!;
                before.Kill();
            }

            Directory.Move(first, second);
            await using var after = await ServiceProcess.StartAsync(second, keys);
            using var again = Clients.Http(after, "move-key");

            using (var content = await again.GetAsync($"files/{fileId}/content"))
            {
                Assert.True(content.StatusCode == HttpStatusCode.OK, await content.Content.ReadAsStringAsync());
                Assert.Equal(Encoding.UTF8.GetBytes(trainingJsonl), await content.Content.ReadAsByteArrayAsync());
            }
            using var chat = await again.PostAsJsonAsync("chat/completions", new
            {
                model = modelName, messages = new[] { new { role = "user", content = "Colour number 3?" } }, max_tokens = 4, temperature = 0,
            });
            var body = await chat.Content.ReadAsStringAsync();
            Assert.True(chat.StatusCode == HttpStatusCode.OK, body + "\n" + after.Output);
            using var answer = JsonDocument.Parse(body);
            Assert.Equal(modelName, answer.RootElement.GetProperty("model").GetString());
            Assert.NotNull(answer.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }
}
