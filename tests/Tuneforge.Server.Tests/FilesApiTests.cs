using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenAI.Files;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

public class FilesApiTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Jsonl = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"hello\"}]}\n";

    [Fact]
    public async Task A_file_uploaded_with_the_sdk_can_be_listed_fetched_downloaded_byte_for_byte_and_deleted()
    {
        var files = fixture.OpenAI().GetOpenAIFileClient();
        var bytes = Encoding.UTF8.GetBytes(Jsonl + "{\"messages\":[{\"role\":\"user\",\"content\":\"é ✓ \\u0000\"}]}\r\n");

        OpenAIFile uploaded = await files.UploadFileAsync(new MemoryStream(bytes), "train.jsonl", FileUploadPurpose.FineTune);
        Assert.StartsWith("file-", uploaded.Id);
        Assert.Equal(bytes.Length, uploaded.SizeInBytes);
        Assert.Equal("train.jsonl", uploaded.Filename);
        Assert.Equal(FilePurpose.FineTune, uploaded.Purpose);
        Assert.Equal(FileStatus.Processed, uploaded.Status);

        OpenAIFileCollection all = await files.GetFilesAsync();
        Assert.Contains(all, f => f.Id == uploaded.Id);

        OpenAIFile fetched = await files.GetFileAsync(uploaded.Id);
        Assert.Equal(uploaded.CreatedAt, fetched.CreatedAt);

        BinaryData content = await files.DownloadFileAsync(uploaded.Id);
        Assert.Equal(bytes, content.ToArray());

        FileDeletionResult deleted = await files.DeleteFileAsync(uploaded.Id);
        Assert.True(deleted.Deleted);
        Assert.Equal(uploaded.Id, deleted.FileId);
        var gone = await Assert.ThrowsAsync<ClientResultException>(() => files.GetFileAsync(uploaded.Id));
        Assert.Equal(404, gone.Status);
    }

    [Fact]
    public async Task Binary_content_comes_back_unchanged()
    {
        var bytes = new byte[300_000];
        new Random(7).NextBytes(bytes);
        var file = await UploadRawAsync(fixture.Http(), bytes, "blob.bin", "user_data", nodeFlavour: true);
        using var http = fixture.Http();
        var content = await http.GetByteArrayAsync($"files/{file.GetProperty("id").GetString()}/content");
        Assert.Equal(bytes, content);
        Assert.Equal(bytes.Length, file.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task A_file_whose_bytes_are_gone_from_disk_answers_an_error_that_says_so_and_the_service_goes_on()
    {
        var file = await UploadRawAsync(fixture.Http(), Encoding.UTF8.GetBytes(Jsonl), "gone.jsonl", "user_data", nodeFlavour: true);
        var id = file.GetProperty("id").GetString()!;
        File.Delete(Path.Combine(fixture.DataDir, "files", id));

        using var http = fixture.Http();
        using (var response = await http.GetAsync($"files/{id}/content"))
        {
            var error = await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.InternalServerError, "id", "file_content_missing");
            Assert.Contains($"The content of {id} is missing from this node's data directory", error.GetProperty("message").GetString());
        }
        using var listed = await http.GetAsync($"files/{id}");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
    }

    [Fact]
    public async Task Node_style_multipart_with_quoted_names_and_a_typed_file_part_is_accepted()
    {
        var file = await UploadRawAsync(fixture.Http(), Encoding.UTF8.GetBytes(Jsonl), "node.jsonl", "fine-tune", nodeFlavour: true,
            extraFields: [("expires_after[anchor]", "created_at"), ("expires_after[seconds]", "3600")]);
        Assert.Equal("node.jsonl", file.GetProperty("filename").GetString());
        Assert.Equal("fine-tune", file.GetProperty("purpose").GetString());
        Assert.Equal("processed", file.GetProperty("status").GetString());
        Assert.Equal(file.GetProperty("created_at").GetInt64() + 3600, file.GetProperty("expires_at").GetInt64());
    }

    [Fact]
    public async Task Listing_filters_by_purpose_and_pages_with_after_limit_and_order()
    {
        // A fresh organisation's view is needed for exact counts, so use org-b's key and a purpose nobody else uses.
        using var http = fixture.Http(ServiceFixture.KeyB);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add((await UploadRawAsync(http, Encoding.UTF8.GetBytes($"{i}\n"), $"v{i}.jsonl", "evals")).GetProperty("id").GetString()!);

        var everything = await GetJsonAsync(http, "files?purpose=evals");
        Assert.Equal(ids.AsEnumerable().Reverse(), Ids(everything)); // newest first by default
        Assert.False(everything.GetProperty("has_more").GetBoolean());

        var firstPage = await GetJsonAsync(http, "files?purpose=evals&order=asc&limit=2");
        Assert.Equal(ids.Take(2), Ids(firstPage));
        Assert.True(firstPage.GetProperty("has_more").GetBoolean());
        Assert.Equal(ids[0], firstPage.GetProperty("first_id").GetString());
        Assert.Equal(ids[1], firstPage.GetProperty("last_id").GetString());

        var secondPage = await GetJsonAsync(http, $"files?purpose=evals&order=asc&limit=2&after={ids[1]}");
        Assert.Equal(ids.Skip(2).Take(2), Ids(secondPage));
        var lastPage = await GetJsonAsync(http, $"files?purpose=evals&order=asc&limit=2&after={ids[3]}");
        Assert.Equal([ids[4]], Ids(lastPage));
        Assert.False(lastPage.GetProperty("has_more").GetBoolean());

        var fineTune = await GetJsonAsync(http, "files?purpose=fine-tune");
        Assert.DoesNotContain(Ids(fineTune), ids.Contains);

        using var badLimit = await http.GetAsync("files?limit=0");
        await ErrorAssert.EnvelopeAsync(badLimit, HttpStatusCode.BadRequest, param: "limit");
    }

    [Fact]
    public async Task An_upload_without_a_valid_purpose_or_file_is_a_400_naming_the_field()
    {
        using var http = fixture.Http();
        using var noPurpose = await http.PostAsync("files", Multipart(Encoding.UTF8.GetBytes(Jsonl), "a.jsonl", purpose: null));
        await ErrorAssert.EnvelopeAsync(noPurpose, HttpStatusCode.BadRequest, param: "purpose");

        using var badPurpose = await http.PostAsync("files", Multipart(Encoding.UTF8.GetBytes(Jsonl), "a.jsonl", purpose: "fine-tune-results"));
        await ErrorAssert.EnvelopeAsync(badPurpose, HttpStatusCode.BadRequest, param: "purpose");

        var onlyPurpose = new MultipartFormDataContent { { new StringContent("fine-tune"), "purpose" } };
        using var noFile = await http.PostAsync("files", onlyPurpose);
        await ErrorAssert.EnvelopeAsync(noFile, HttpStatusCode.BadRequest, param: "file");

        using var notMultipart = await http.PostAsync("files", new StringContent("{}", Encoding.UTF8, "application/json"));
        await ErrorAssert.EnvelopeAsync(notMultipart, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Another_organisations_file_is_not_found()
    {
        using var a = fixture.Http(ServiceFixture.KeyA);
        using var b = fixture.Http(ServiceFixture.KeyB);
        var id = (await UploadRawAsync(a, Encoding.UTF8.GetBytes(Jsonl), "private.jsonl", "fine-tune")).GetProperty("id").GetString();

        foreach (var (method, path) in new[] { (HttpMethod.Get, $"files/{id}"), (HttpMethod.Get, $"files/{id}/content"), (HttpMethod.Delete, $"files/{id}") })
        {
            using var response = await b.SendAsync(new HttpRequestMessage(method, path));
            await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.NotFound, param: "id");
        }
        Assert.DoesNotContain(id, Ids(await GetJsonAsync(b, "files")));
        using var stillThere = await a.GetAsync($"files/{id}");
        Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
    }

    internal static async Task<JsonElement> UploadRawAsync(HttpClient http, byte[] bytes, string filename, string purpose,
        bool nodeFlavour = false, (string Name, string Value)[]? extraFields = null)
    {
        HttpContent content = nodeFlavour ? NodeMultipart(bytes, filename, purpose, extraFields ?? []) : Multipart(bytes, filename, purpose);
        using var response = await http.PostAsync("files", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    internal static async Task<JsonElement> GetJsonAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static IEnumerable<string> Ids(JsonElement list) =>
        list.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString()!).ToList();

    private static MultipartFormDataContent Multipart(byte[] bytes, string filename, string? purpose)
    {
        var content = new MultipartFormDataContent { { new ByteArrayContent(bytes), "file", filename } };
        if (purpose is not null) content.Add(new StringContent(purpose), "purpose");
        return content;
    }

    /// <summary>The multipart body the Node SDK sends: quoted names, purpose first, file part typed octet-stream.</summary>
    private static ByteArrayContent NodeMultipart(byte[] bytes, string filename, string purpose, (string Name, string Value)[] fields)
    {
        const string boundary = "----formdata-node-0123456789";
        using var body = new MemoryStream();
        void Write(string s) => body.Write(Encoding.UTF8.GetBytes(s));
        foreach (var (name, value) in fields.Prepend(("purpose", purpose)))
            Write($"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
        Write($"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.Write(bytes);
        Write($"\r\n--{boundary}--\r\n");
        var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        return content;
    }
}
