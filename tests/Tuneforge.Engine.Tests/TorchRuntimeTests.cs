using TorchSharp;
using Tuneforge.Engine;

namespace Tuneforge.Engine.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void Libtorch_loads_and_multiplies_bf16_matrices()
    {
        TorchRuntime.Initialize();
        using var a = torch.ones(4, 8, dtype: torch.bfloat16);
        using var b = torch.ones(8, 3, dtype: torch.bfloat16);
        using var c = a.matmul(b).to(torch.float32);
        Assert.Equal(8f, c[0, 0].item<float>());
        Assert.True(TorchRuntime.Threads >= 1);
    }
}
