using System.Text.Json;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>OpenAI's eval templates: <c>{{ item.x }}</c>, <c>{{ sample.output_text }}</c>, <c>{{ sample.output_json.a[0].b }}</c>.</summary>
public static class EvalTemplate
{
    /// <summary>
    /// Renders <paramref name="template"/>: strings as they are, other values as compact JSON. A path that does not
    /// resolve throws <see cref="EvalRowException"/> (code <c>template_error</c>) naming the path.
    /// </summary>
    public static string Render(string template, JsonElement item, JsonElement? sample) => throw new NotImplementedException();

    /// <summary>The paths a template names, e.g. <c>item.question</c>, <c>sample.output_text</c>.</summary>
    public static IReadOnlyList<string> Paths(string template) => throw new NotImplementedException();
}
