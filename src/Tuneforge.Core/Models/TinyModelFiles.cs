using Tuneforge.Engine.Modeling;

namespace Tuneforge.Core.Models;

/// <summary>Writes the built-in tuneforge-tiny checkpoint through the engine (the one call site for it).</summary>
internal static class TinyModelFiles
{
    public static void EnsureWritten(string directory) => TinyModel.EnsureWritten(directory);
}
