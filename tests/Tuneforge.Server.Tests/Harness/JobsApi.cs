using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Tuneforge.Server.Tests.Harness;

/// <summary>Small datasets and raw-HTTP steps shared by the fine-tuning tests.</summary>
public static class JobsApi
{
    /// <summary>A valid chat dataset of <paramref name="examples"/> lines.</summary>
    public static string ChatJsonl(int examples = 12, int offset = 0)
    {
        var lines = new StringBuilder();
        for (var i = offset; i < offset + examples; i++)
            lines.Append($$"""{"messages":[{"role":"system","content":"You answer in one word."},{"role":"user","content":"Colour number {{i}}?"},{"role":"assistant","content":"{{(i % 2 == 0 ? "Red" : "Blue")}}"}]}""").Append('\n');
        return lines.ToString();
    }

    public static async Task<string> UploadAsync(HttpClient http, string jsonl, string filename = "train.jsonl", string purpose = "fine-tune")
    {
        var content = new MultipartFormDataContent
        {
            { new StringContent(purpose), "purpose" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(jsonl)), "file", filename },
        };
        using var response = await http.PostAsync("files", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    public static async Task<HttpResponseMessage> PostJsonAsync(HttpClient http, string path, string json) =>
        await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    public static async Task<JsonElement> CreateJobAsync(HttpClient http, object request)
    {
        using var response = await http.PostAsJsonAsync("fine_tuning/jobs", request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static async Task<JsonElement> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Polls the job until <paramref name="done"/> holds for its status, failing after <paramref name="timeout"/>.</summary>
    public static async Task<JsonElement> WaitForStatusAsync(HttpClient http, string jobId, Func<string, bool> done, TimeSpan timeout,
        ServiceProcess? service = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonElement job;
        do
        {
            job = await GetAsync(http, $"fine_tuning/jobs/{jobId}");
            if (done(job.GetProperty("status").GetString()!)) return job;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        var events = await GetAsync(http, $"fine_tuning/jobs/{jobId}/events?limit=50");
        throw new TimeoutException($"job {jobId} is still {job.GetProperty("status")} after {timeout}:\n{job}\n{events}\n{service?.Output}");
    }

    public static IEnumerable<string> Messages(JsonElement eventList) =>
        eventList.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("message").GetString()!).ToList();
}
