using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

public class UploadsApiTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Parts_sent_out_of_order_complete_into_one_file_in_the_listed_order()
    {
        using var http = fixture.Http();
        var first = Encoding.UTF8.GetBytes(JobsApi.ChatJsonl(6));
        var second = Encoding.UTF8.GetBytes(JobsApi.ChatJsonl(6, offset: 6));
        var whole = first.Concat(second).ToArray();

        var upload = await PostJsonAsync(http, "uploads",
            $$"""{"filename":"big.jsonl","purpose":"fine-tune","bytes":{{whole.Length}},"mime_type":"text/jsonl"}""");
        Assert.Equal("upload", upload.GetProperty("object").GetString());
        Assert.Equal("pending", upload.GetProperty("status").GetString());
        Assert.StartsWith("upload_", upload.GetProperty("id").GetString());
        var id = upload.GetProperty("id").GetString();

        var partTwo = await AddPartAsync(http, id!, second);
        var partOne = await AddPartAsync(http, id!, first);
        Assert.Equal("upload.part", partOne.GetProperty("object").GetString());

        var md5 = Convert.ToHexStringLower(MD5.HashData(whole));
        var done = await PostJsonAsync(http, $"uploads/{id}/complete",
            $$"""{"part_ids":["{{partOne.GetProperty("id")}}","{{partTwo.GetProperty("id")}}"],"md5":"{{md5}}"}""");
        Assert.Equal("completed", done.GetProperty("status").GetString());
        var file = done.GetProperty("file");
        Assert.Equal(whole.Length, file.GetProperty("bytes").GetInt64());
        Assert.Equal("fine-tune", file.GetProperty("purpose").GetString());

        var content = await http.GetByteArrayAsync($"files/{file.GetProperty("id").GetString()}/content");
        Assert.Equal(whole, content);

        using var again = await http.PostAsync($"uploads/{id}/cancel", null);
        await ErrorAssert.EnvelopeAsync(again, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Parts_that_do_not_add_up_are_rejected_and_a_cancelled_upload_takes_no_parts()
    {
        using var http = fixture.Http();
        var upload = await PostJsonAsync(http, "uploads", """{"filename":"x.jsonl","purpose":"fine-tune","bytes":100,"mime_type":"text/jsonl"}""");
        var id = upload.GetProperty("id").GetString()!;
        var part = await AddPartAsync(http, id, new byte[10]);

        using var mismatch = await http.PostAsync($"uploads/{id}/complete",
            new StringContent($$"""{"part_ids":["{{part.GetProperty("id")}}"]}""", Encoding.UTF8, "application/json"));
        await ErrorAssert.EnvelopeAsync(mismatch, HttpStatusCode.BadRequest, param: "part_ids");

        Assert.Equal("cancelled", (await PostJsonAsync(http, $"uploads/{id}/cancel", "{}")).GetProperty("status").GetString());
        var content = new MultipartFormDataContent { { new ByteArrayContent(new byte[5]), "data", "blob" } };
        using var late = await http.PostAsync($"uploads/{id}/parts", content);
        await ErrorAssert.EnvelopeAsync(late, HttpStatusCode.BadRequest);

        using var other = fixture.Http(ServiceFixture.KeyB);
        using var foreign = await other.PostAsync($"uploads/{id}/cancel", null);
        await ErrorAssert.EnvelopeAsync(foreign, HttpStatusCode.NotFound, param: "id");
    }

    private static async Task<JsonElement> AddPartAsync(HttpClient http, string uploadId, byte[] bytes)
    {
        var content = new MultipartFormDataContent { { new ByteArrayContent(bytes), "data", "blob" } };
        using var response = await http.PostAsync($"uploads/{uploadId}/parts", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<JsonElement> PostJsonAsync(HttpClient http, string path, string json)
    {
        using var response = await JobsApi.PostJsonAsync(http, path, json);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {path}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
