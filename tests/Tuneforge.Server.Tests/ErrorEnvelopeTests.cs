using System.Net;
using System.Text;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

public class ErrorEnvelopeTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_request_without_a_key_or_with_a_wrong_key_is_401_invalid_api_key()
    {
        using var anonymous = fixture.Http(key: null);
        using var missing = await anonymous.GetAsync("files");
        await ErrorAssert.EnvelopeAsync(missing, HttpStatusCode.Unauthorized, code: "invalid_api_key");

        using var wrong = fixture.Http("not-a-key");
        using var rejected = await wrong.GetAsync("models");
        await ErrorAssert.EnvelopeAsync(rejected, HttpStatusCode.Unauthorized, code: "invalid_api_key");
    }

    [Fact]
    public async Task Unknown_routes_are_404_and_wrong_methods_405_in_the_envelope()
    {
        using var http = fixture.Http();
        using var unknown = await http.GetAsync("no/such/route");
        await ErrorAssert.EnvelopeAsync(unknown, HttpStatusCode.NotFound);

        using var wrongMethod = await http.PutAsync("files", new StringContent(""));
        await ErrorAssert.EnvelopeAsync(wrongMethod, HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task A_malformed_query_value_is_a_400_in_the_envelope()
    {
        using var http = fixture.Http();
        using var response = await http.GetAsync("files?limit=many");
        await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task An_upload_over_the_size_limit_is_413_and_leaves_no_file_behind()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "tuneforge-tests", Guid.NewGuid().ToString("N"));
        await using var service = await ServiceProcess.StartAsync(dataDir, "small-key:org-small", "--max-upload-bytes", "1000");
        using var http = Clients.Http(service, "small-key");

        var content = new MultipartFormDataContent
        {
            { new StringContent("fine-tune"), "purpose" },
            { new ByteArrayContent(new byte[5000]), "file", "big.jsonl" },
        };
        using var response = await http.PostAsync("files", content);
        await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.RequestEntityTooLarge);

        var fits = new MultipartFormDataContent
        {
            { new StringContent("fine-tune"), "purpose" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(new string('x', 900))), "file", "small.jsonl" },
        };
        using var ok = await http.PostAsync("files", fits);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        var stored = Directory.GetFiles(Path.Combine(dataDir, "files"), "*", SearchOption.AllDirectories);
        Assert.Single(stored); // only the file that fitted; nothing half-written in .incoming
        service.Kill();
        Directory.Delete(dataDir, recursive: true);
    }
}
