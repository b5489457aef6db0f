using System.Text.Json;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>Checks a data row's <c>item</c> against the eval's <c>item_schema</c> (the JSON Schema subset OpenAI's examples use).</summary>
public static class ItemSchema
{
    /// <summary>Null when <paramref name="item"/> fits <paramref name="schema"/>; else what is wrong, naming the path (e.g. <c>item.question: expected string</c>).</summary>
    public static string? Check(JsonElement schema, JsonElement item) => throw new NotImplementedException();
}
