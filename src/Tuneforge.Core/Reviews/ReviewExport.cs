using System.Text;
using System.Text.Json;
using Tuneforge.Core.Datasets;
using Tuneforge.Engine.Chat;

namespace Tuneforge.Core.Reviews;

/// <summary>
/// A review set's judgements as fine-tuning data, one JSONL line per decided item, in item order.
/// <list type="bullet">
/// <item><c>chat</c>: <c>{"messages":[…prompt, {"role":"assistant","content":chosen}]}</c>, where chosen is the latest
/// better answer a reviewer wrote for the item, else the answer the majority picked.</item>
/// <item><c>preference</c> (OpenAI's preference fine-tuning format): <c>{"input":{"messages":[…]},
/// "preferred_output":[{"role":"assistant","content":…}],"non_preferred_output":[…]}</c> for items the majority decided.</item>
/// </list>
/// The majority is more than half of the item's judgements, ties included: a tie, or a split vote, decides nothing.
/// </summary>
public static class ReviewExport
{
    public const string Chat = "chat", Preference = "preference";

    public static bool IsFormat(string? format) => format is Chat or Preference;

    public static string Jsonl(string format, IReadOnlyList<ReviewItem> items, IReadOnlyList<Review> reviews)
    {
        var byItem = reviews.ToLookup(r => r.ItemId);
        var jsonl = new StringBuilder();
        foreach (var item in items)
        {
            var judged = byItem[item.Id].ToList();
            var winner = Winner(judged);
            var prompt = item.Messages.Select(m => new ChatMessage(m.Role, m.Content)).ToList();
            if (format == Chat)
            {
                var better = judged.Where(r => r.BetterAnswer is not null).MaxBy(r => r.Revision)?.BetterAnswer;
                var chosen = better ?? (winner is { } w ? item.Answers[w].Content : null);
                if (chosen is null) continue;
                jsonl.Append(DatasetConverter.ToJsonLine([.. prompt, ChatMessage.Assistant(chosen)])).Append('\n');
            }
            else if (winner is { } w)
            {
                jsonl.Append(JsonSerializer.Serialize(new
                {
                    input = new { messages = prompt.Select(m => new { role = m.Role, content = m.Content }) },
                    preferred_output = new[] { new { role = "assistant", content = item.Answers[w].Content } },
                    non_preferred_output = new[] { new { role = "assistant", content = item.Answers[1 - w].Content } },
                }, DatasetConverter.Compact)).Append('\n');
            }
        }
        return jsonl.ToString();
    }

    /// <summary>The answer position more than half of the judgements chose, or null.</summary>
    public static int? Winner(IReadOnlyList<Review> judged)
    {
        foreach (var position in new[] { 0, 1 })
            if (judged.Count(r => r.ChosenAnswer == position) * 2 > judged.Count) return position;
        return null;
    }
}
