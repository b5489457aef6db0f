using TorchSharp;

namespace Tuneforge.Engine.Checkpoints;

/// <summary>The safetensors dtype strings and their TorchSharp types and element sizes.</summary>
public static class SafetensorsDtype
{
    private static readonly (string Name, torch.ScalarType Type, int Size)[] Table =
    [
        ("F64", torch.ScalarType.Float64, 8), ("F32", torch.ScalarType.Float32, 4), ("F16", torch.ScalarType.Float16, 2),
        ("BF16", torch.ScalarType.BFloat16, 2), ("I64", torch.ScalarType.Int64, 8), ("I32", torch.ScalarType.Int32, 4),
        ("I16", torch.ScalarType.Int16, 2), ("I8", torch.ScalarType.Int8, 1), ("U8", torch.ScalarType.Byte, 1),
        ("BOOL", torch.ScalarType.Bool, 1),
    ];

    public static torch.ScalarType ToScalarType(string name)
    {
        foreach (var e in Table) if (e.Name == name) return e.Type;
        throw new NotSupportedException($"safetensors dtype {name} is not supported (supported: {string.Join(", ", Table.Select(e => e.Name))})");
    }

    public static string FromScalarType(torch.ScalarType type)
    {
        foreach (var e in Table) if (e.Type == type) return e.Name;
        throw new NotSupportedException($"tensor dtype {type} cannot be written to safetensors");
    }

    public static int ElementSize(string name)
    {
        foreach (var e in Table) if (e.Name == name) return e.Size;
        throw new NotSupportedException($"safetensors dtype {name} is not supported");
    }
}
