using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;
using Tuneforge.Cli.Api;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// Where commands write: readable tables on a terminal (and plain, wide text when redirected), raw JSON with --json,
/// and errors as one line on stderr.
/// </summary>
public sealed class Output(bool json)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public bool Json { get; } = json;

    public IAnsiConsole Console { get; } = CreateConsole();

    public static bool Interactive => !System.Console.IsOutputRedirected && !System.Console.IsErrorRedirected;

    private static IAnsiConsole CreateConsole()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(System.Console.Out),
            Ansi = System.Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = System.Console.IsOutputRedirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = System.Console.IsOutputRedirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (System.Console.IsOutputRedirected) console.Profile.Width = 200; // scripts get whole ids, never wrapped cells
        return console;
    }

    public void WriteJson(JsonElement element) => System.Console.Out.WriteLine(JsonSerializer.Serialize(element, Indented));

    public void WriteJson<T>(T value, JsonSerializerOptions? options = null)
        => System.Console.Out.WriteLine(JsonSerializer.Serialize(value, options ?? new JsonSerializerOptions(Indented) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));

    public void Write(IRenderable renderable) => Console.Write(renderable);

    public void Line(string markup) => Console.MarkupLine(markup);

    /// <summary>Unformatted text straight to stdout: never wrapped or re-flowed, whatever the width.</summary>
    public void Plain(string text) => System.Console.Out.WriteLine(text);

    /// <summary>A table with the given column headers; cells are plain text (escaped).</summary>
    public static Table Table(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns) table.AddColumn(new TableColumn(column));
        return table;
    }

    public static void AddRow(Table table, params object?[] cells)
        => table.AddRow(cells.Select(c => (IRenderable)new Text(c switch { null => "-", double d => d.ToString("0.####"), _ => c.ToString() ?? "-" })).ToArray());

    /// <summary>Key/value table for a single object.</summary>
    public void Properties(IEnumerable<(string Key, object? Value)> rows)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        foreach (var (key, value) in rows)
            grid.AddRow(new Text(key, new Style(decoration: Decoration.Bold)), new Text(value?.ToString() ?? "-"));
        Console.Write(grid);
    }

    public static void Error(string line) => System.Console.Error.WriteLine(line);

    /// <summary>Runs a command body: service errors and bad input become one line on stderr and exit code 1.</summary>
    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (ApiError e)
        {
            Error(e.OneLine());
            return 1;
        }
        catch (UsageError e)
        {
            Error("error: " + e.Message);
            return 2;
        }
        catch (OperationCanceledException)
        {
            Error("cancelled");
            return 130;
        }
        catch (IOException e)
        {
            Error("error: " + e.Message);
            return 1;
        }
        catch (UnauthorizedAccessException e)
        {
            Error("error: " + e.Message);
            return 1;
        }
    }
}

/// <summary>A mistake in how a command was called (bad combination of options, unreadable input file).</summary>
public sealed class UsageError(string message) : Exception(message);

/// <summary>Formatting of the API's values.</summary>
public static class Show
{
    public static string Time(JsonElement parent, string key)
        => parent.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number
            ? DateTimeOffset.FromUnixTimeSeconds(v.GetInt64()).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") + "Z"
            : "-";

    public static string? Text(JsonElement parent, string key)
        => parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(key, out var v)
            ? v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => v.GetRawText(),
            }
            : null;

    public static double? Number(JsonElement parent, string key)
        => parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    /// <summary>A chat completion's first choice's message text, or null when it has none.</summary>
    public static string? MessageContent(JsonElement completion)
        => completion.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
           && choices[0].GetProperty("message").TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;

    public static IEnumerable<JsonElement> Data(JsonElement list)
        => list.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array ? data.EnumerateArray() : [];

    public static string Bytes(double bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        var unit = 0;
        while (bytes >= 1024 && unit < units.Length - 1) { bytes /= 1024; unit++; }
        return unit == 0 ? $"{bytes:0} B" : $"{bytes:0.0} {units[unit]}";
    }

    public static string Duration(TimeSpan span) => span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes:00}m"
        : span.TotalMinutes >= 1 ? $"{span.Minutes}m {span.Seconds:00}s" : $"{span.TotalSeconds:0.#}s";
}
