namespace Tuneforge.Engine.Tokenization;

/// <summary>The text of an id sequence and, per id, the UTF-16 offset in <see cref="Text"/> where its text starts.</summary>
public sealed record DecodedText(string Text, IReadOnlyList<int> Offsets);
