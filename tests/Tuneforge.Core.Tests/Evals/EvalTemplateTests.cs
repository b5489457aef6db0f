using System.Text.Json;
using Tuneforge.Core.Evals;
using Tuneforge.Core.Evals.Grading;

namespace Tuneforge.Core.Tests.Evals;

public class EvalTemplateTests
{
    private static readonly JsonElement Item = JsonDocument.Parse("""
        {"question":"Capital of France?","n":3,"ok":true,"tags":["geo","eu"],"meta":{"source":{"page":12}},"city":"Zürich","cities":["Zürich","Genève"],"nested":{"a": [1, {"b": "x"}]}}
        """).RootElement;
    private static readonly JsonElement Sample = JsonDocument.Parse("""
        {"output_text":"Paris","output_json":{"email":"a@b.c"},"output_tools":[{"function":{"name":"lookup"}}]}
        """).RootElement;

    [Fact]
    public void Paths_into_item_and_sample_render_strings_raw_and_other_values_as_compact_json()
    {
        Assert.Equal("Q: Capital of France? A: Paris", EvalTemplate.Render("Q: {{item.question}} A: {{ sample.output_text }}", Item, Sample));
        Assert.Equal("eu|12|lookup|a@b.c", EvalTemplate.Render(
            "{{item.tags[1]}}|{{item.meta.source.page}}|{{sample.output_tools[0].function.name}}|{{  sample.output_json.email}}", Item, Sample));
        Assert.Equal("3 true [\"geo\",\"eu\"] {\"b\":\"x\"}", EvalTemplate.Render("{{item.n}} {{item.ok}} {{item.tags}} {{item.nested.a[1]}}", Item, Sample));
        Assert.Equal("Zürich", EvalTemplate.Render("{{item.city}}", Item, null));
        Assert.Equal("[\"Zürich\",\"Genève\"]", EvalTemplate.Render("{{item.cities}}", Item, null)); // not escaped to \u00FC
    }

    [Fact]
    public void Other_placeholders_are_left_as_written()
    {
        Assert.Equal("Use {{ name }} and {{foo.bar}} here", EvalTemplate.Render("Use {{ name }} and {{foo.bar}} here", Item, Sample));
        Assert.Equal("no placeholders", EvalTemplate.Render("no placeholders", Item, Sample));
    }

    [Fact]
    public void A_path_the_row_lacks_errors_the_row_naming_the_path()
    {
        var missing = Assert.Throws<EvalRowException>(() => EvalTemplate.Render("{{item.answer}}", Item, Sample));
        Assert.Equal("template_error", missing.Code);
        Assert.Contains("item.answer", missing.Message);
        Assert.Contains("item.tags[5]", Assert.Throws<EvalRowException>(() => EvalTemplate.Render("{{item.tags[5]}}", Item, Sample)).Message);
        Assert.Contains("item.question.x", Assert.Throws<EvalRowException>(() => EvalTemplate.Render("{{item.question.x}}", Item, Sample)).Message);
        var noSample = Assert.Throws<EvalRowException>(() => EvalTemplate.Render("{{sample.output_text}}", Item, null));
        Assert.Contains("sample.output_text", noSample.Message);
    }

    [Fact]
    public void Paths_lists_each_named_path_once()
    {
        Assert.Equal(["item.question", "sample.output_json.a[0].b", "item.x"],
            EvalTemplate.Paths("{{item.question}} {{ sample.output_json.a[0].b }} {{item.question}} {{other}} {{item.x}}"));
        Assert.Empty(EvalTemplate.Paths("plain"));
    }
}
