using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Training;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Training;

/// <summary>
/// The trainer and the model choose their compute dtype with one rule (ComputeDtype.Choose), each with its own
/// override variable, and the trainer keeps a bf16 checkpoint's matrices in bf16 when it computes in f32.
/// </summary>
public class ComputePrecisionTests
{
    // a variable of this test alone, so that no other test's environment is touched
    private static readonly string Variable = "TUNEFORGE_TEST_DTYPE_" + Guid.NewGuid().ToString("N");

    [Fact]
    public void One_rule_with_an_override_per_variable()
    {
        try
        {
            Environment.SetEnvironmentVariable(Variable, null);
            Assert.Equal(ScalarType.Float32, ComputeDtype.Choose(ScalarType.Float32, Variable).DType);
            var expected = ComputeDtype.HasNativeBf16 ? ScalarType.BFloat16 : ScalarType.Float32;
            Assert.Equal(expected, ComputeDtype.Choose(ScalarType.BFloat16, Variable).DType);

            Environment.SetEnvironmentVariable(Variable, "bf16");
            Assert.Equal((ScalarType.BFloat16, $"{Variable}=bf16"), ComputeDtype.Choose(ScalarType.Float32, Variable));
            Environment.SetEnvironmentVariable(Variable, " F32 ");
            Assert.Equal(ScalarType.Float32, ComputeDtype.Choose(ScalarType.BFloat16, Variable).DType);
            Environment.SetEnvironmentVariable(Variable, "auto");
            Assert.Equal(expected, ComputeDtype.Choose(ScalarType.BFloat16, Variable).DType);

            Environment.SetEnvironmentVariable(Variable, "fp8");
            var error = Assert.Throws<ArgumentException>(() => ComputeDtype.Choose(ScalarType.BFloat16, Variable));
            Assert.Contains(Variable, error.Message);
            Assert.Contains("fp8", error.Message);
        }
        finally { Environment.SetEnvironmentVariable(Variable, null); }
    }

    [Fact]
    public void Trainer_keeps_narrow_checkpoint_matrices_narrow_when_computing_wider()
    {
        Assert.Equal(ScalarType.BFloat16, ComputePrecision.StorageFor(ScalarType.BFloat16, ScalarType.Float32));
        Assert.Equal(ScalarType.Float16, ComputePrecision.StorageFor(ScalarType.Float16, ScalarType.Float32));
        Assert.Equal(ScalarType.BFloat16, ComputePrecision.StorageFor(ScalarType.BFloat16, ScalarType.BFloat16));
        Assert.Equal(ScalarType.Float32, ComputePrecision.StorageFor(ScalarType.Float32, ScalarType.Float32));
        Assert.Equal(ScalarType.Float64, ComputePrecision.StorageFor(ScalarType.BFloat16, ScalarType.Float64));
    }
}
