using System.Text.Json;
using Tuneforge.Core.Evals.Grading;

namespace Tuneforge.Core.Tests.Evals;

public class ItemSchemaTests
{
    private static readonly JsonElement Schema = JsonDocument.Parse("""
        {"type":"object",
         "properties":{"question":{"type":"string"},"reference":{"type":"string"},"difficulty":{"type":"integer"},
                       "level":{"enum":["easy","hard"]},"note":{"type":["string","null"]},
                       "tags":{"type":"array","items":{"type":"string"}},
                       "meta":{"type":"object","properties":{"page":{"type":"number"}},"additionalProperties":false}},
         "required":["question","reference"]}
        """).RootElement;

    private static string? Check(string item) => ItemSchema.Check(Schema, JsonDocument.Parse(item).RootElement);

    [Fact]
    public void A_fitting_item_passes()
    {
        Assert.Null(Check("""{"question":"q","reference":"r"}"""));
        Assert.Null(Check("""{"question":"q","reference":"r","difficulty":2.0,"level":"hard","note":null,"tags":["a"],"meta":{"page":1.5},"extra":1}"""));
    }

    [Theory]
    [InlineData("""{"question":1,"reference":"r"}""", "item.question: expected string, got number")]
    [InlineData("""{"question":"q"}""", "item: missing required property \"reference\"")]
    [InlineData("""{"question":"q","reference":"r","difficulty":1.5}""", "item.difficulty: expected integer, got number")]
    [InlineData("""{"question":"q","reference":"r","level":"medium"}""", "item.level: \"medium\" is not one of [\"easy\",\"hard\"]")]
    [InlineData("""{"question":"q","reference":"r","note":true}""", "item.note: expected string or null, got boolean")]
    [InlineData("""{"question":"q","reference":"r","tags":["a",2]}""", "item.tags[1]: expected string, got number")]
    [InlineData("""{"question":"q","reference":"r","meta":{"page":1,"author":"x"}}""", "item.meta.author: property not allowed (the schema sets additionalProperties to false)")]
    [InlineData("""["q"]""", "item: expected object, got array")]
    public void A_misfit_is_named_by_its_path(string item, string message) => Assert.Equal(message, Check(item));

    [Fact]
    public void Template_paths_are_checked_only_where_the_schema_declares_properties()
    {
        Assert.True(ItemSchema.Declares(Schema, ["question"]));
        Assert.False(ItemSchema.Declares(Schema, ["answer"]));
        Assert.True(ItemSchema.Declares(Schema, ["tags", 0]));
        Assert.False(ItemSchema.Declares(Schema, ["meta", "author"]));
        Assert.True(ItemSchema.Declares(Schema, ["level", "anything"])); // level declares no properties
        Assert.True(ItemSchema.Declares(JsonDocument.Parse("""{"type":"object"}""").RootElement, ["anything"]));
    }
}
