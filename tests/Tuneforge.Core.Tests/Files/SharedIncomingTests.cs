using System.IO.Pipes;
using Tuneforge.Core.Files;
using Tuneforge.Core.Tests.Storage;

namespace Tuneforge.Core.Tests.Files;

/// <summary>Several nodes share one data directory: a node starting up must not break an upload another node is receiving.</summary>
public class SharedIncomingTests
{
    [Fact]
    public async Task An_upload_in_progress_on_one_node_survives_another_node_starting_and_old_leftovers_do_not()
    {
        using var data = new TempDataDir();
        var nodeA = new FileStore(data.Path);
        var leftover = Path.Combine(nodeA.Root, ".incoming", "left-by-a-crashed-node");
        File.WriteAllBytes(leftover, [9]);
        File.SetLastWriteTimeUtc(leftover, DateTime.UtcNow - FileStore.LeftoverAge - TimeSpan.FromMinutes(1));

        // Node A receives a body whose first half has arrived and whose second half is still on the wire.
        using var wire = new AnonymousPipeServerStream(PipeDirection.Out);
        using var body = new AnonymousPipeClientStream(PipeDirection.In, wire.ClientSafePipeHandle);
        var receiving = nodeA.ReceiveAsync(body, 1000, CancellationToken.None);
        wire.Write([1, 2, 3]);
        wire.Flush();
        var partial = await PartialUploadAsync(nodeA.Root);

        new FileStore(data.Path).DiscardIncoming(); // node B starts on the same directory

        Assert.True(File.Exists(partial));
        Assert.False(File.Exists(leftover));
        wire.Write([4, 5]);
        wire.Dispose();
        var incoming = await receiving;
        var committed = nodeA.Commit(incoming, "file-shared");
        Assert.Equal([1, 2, 3, 4, 5], File.ReadAllBytes(committed));
    }

    private static async Task<string> PartialUploadAsync(string root)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var partial = Directory.GetFiles(Path.Combine(root, ".incoming")).FirstOrDefault(f => new FileInfo(f).Length == 3);
            if (partial is not null) return partial;
            await Task.Delay(20);
        }
        throw new TimeoutException("the upload never reached .incoming");
    }
}
