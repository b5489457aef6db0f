using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Tuneforge.Core.Compare;

/// <summary>
/// A compare report as one self-contained HTML page: Chart.js (vendored, inlined) draws score, tokens and cost against
/// request volume with the break-even point marked; a table puts every arm's answer to each held-out example side by
/// side. Nothing is fetched: the page works offline and names no external URL.
/// </summary>
public static class CompareHtml
{
    private static readonly Lazy<string> ChartJs = new(() =>
    {
        using var stream = typeof(CompareHtml).Assembly.GetManifestResourceStream("Tuneforge.Compare.chart.umd.min.js")
            ?? throw new InvalidOperationException("the Chart.js resource is missing from Tuneforge.Core");
        return new StreamReader(stream).ReadToEnd();
    });

    public static string Render(CompareReport report)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(E($"compare {report.Job}")).Append("</title>\n<style>").Append(Style).Append("</style>\n");
        // The library's own banner names its web site in a comment; that is text, not a fetch.
        html.Append("<script>").Append(ChartJs.Value.Replace("</script", "<\\/script")).Append("</script>\n</head><body>\n");
        html.Append("<h1>Was it worth it? ").Append(E(report.Job)).Append("</h1>\n<p>")
            .Append(report.HeldOut.Examples).Append(" held-out examples from ").Append(E(report.HeldOut.Source)).Append(" (")
            .Append(E(report.HeldOut.File)).Append("). Score: ").Append(E(report.Scoring.Metric)).Append(" to the reference")
            .Append("; cosine by ").Append(E(report.Scoring.EmbeddingModel ?? "")).Append(", pass at ≥ ").Append(report.Scoring.PassThreshold)
            .Append("; string metric ").Append(E(report.Scoring.StringMetric)).Append(". Prices: ").Append(E(report.Scoring.Pricing))
            .Append(". Training: ").Append(report.Training.Seconds.ToString("0.#")).Append(" s")
            .Append(report.Training.Cost is { } c ? $", ${c:0.######}" : "").Append(".</p>\n<p class=\"verdict\">")
            .Append(report.BreakEvenRequests is { } n
                ? $"Break-even against long_prompt after {n:N0} requests."
                : $"No break-even against long_prompt: {E(report.BreakEvenReason ?? "")}.")
            .Append("</p>\n");
        foreach (var u in report.Unfinished ?? [])
            html.Append("<p class=\"verdict\">").Append(E(u.Arm)).Append(": not reported, run ").Append(E(u.Run)).Append(' ').Append(E(u.Status))
                .Append(" after ").Append(u.Done).Append(" of ").Append(u.Total).Append(" rows").Append(u.Error is null ? "" : " (" + E(u.Error) + ")").Append(".</p>\n");
        ArmTable(html, report);
        html.Append("<div class=\"charts\">")
            .Append("<figure><figcaption>Score by arm</figcaption><canvas id=\"score\"></canvas></figure>")
            .Append("<figure><figcaption>Tokens per answer by arm</figcaption><canvas id=\"tokens\"></canvas></figure>")
            .Append("<figure><figcaption>Cost against request volume</figcaption><canvas id=\"cost\"></canvas></figure>")
            .Append("</div>\n");
        AnswerTable(html, report);
        html.Append("<script id=\"report\" type=\"application/json\">")
            .Append(JsonSerializer.Serialize(report, CompareReport.Json)).Append("</script>\n<script>").Append(Charts).Append("</script>\n</body></html>\n");
        return html.ToString();
    }

    private static void ArmTable(StringBuilder html, CompareReport report)
    {
        html.Append("<table class=\"arms\"><tr><th>arm</th><th>model</th><th>score</th><th>pass rate</th><th>cosine</th><th>")
            .Append(E(report.Scoring.StringMetric)).Append("</th><th>examples in prompt</th><th>prompt tokens</th><th>completion tokens</th>")
            .Append("<th>p50 ms</th><th>p95 ms</th><th>answers/s</th><th>$ per 1,000</th><th>break-even</th></tr>\n");
        foreach (var a in report.Arms)
        {
            html.Append("<tr><td>").Append(E(a.Name)).Append("</td><td>").Append(E(a.Model)).Append("</td><td>").Append(a.Score.ToString("0.000"))
                .Append("</td><td>").Append(a.PassRate.ToString("0%")).Append("</td><td>").Append(a.Cosine.ToString("0.000")).Append("</td><td>").Append(a.StringScore.ToString("0.000"))
                .Append("</td><td>").Append(a.ExamplesRequested == 0 ? "–" : $"{a.ExamplesUsedMean:0.#} of {a.ExamplesRequested} (min {a.ExamplesUsedMin})")
                .Append("</td><td>").Append(a.PromptTokensMean.ToString("0.#")).Append("</td><td>").Append(a.CompletionTokensMean.ToString("0.#"))
                .Append("</td><td>").Append(a.LatencyMsP50.ToString("0")).Append("</td><td>").Append(a.LatencyMsP95.ToString("0"))
                .Append("</td><td>").Append(a.AnswersPerSecond.ToString("0.##")).Append("</td><td>").Append(a.CostPer1000 is { } c ? c.ToString("0.######") : "–")
                .Append("</td><td>").Append(a.BreakEvenRequests is { } n ? n.ToString("N0") : E(a.BreakEvenReason ?? "–")).Append("</td></tr>\n");
        }
        html.Append("</table>\n");
    }

    private static void AnswerTable(StringBuilder html, CompareReport report)
    {
        html.Append("<h2>Answers side by side</h2>\n<table class=\"answers\"><tr><th>line</th><th>question</th><th>reference</th>");
        foreach (var a in report.Arms) html.Append("<th>").Append(E(a.Name)).Append("</th>");
        html.Append("</tr>\n");
        foreach (var row in report.Answers)
        {
            html.Append("<tr><td>").Append(row.Line).Append("</td><td>").Append(E(row.Question)).Append("</td><td>").Append(E(row.Reference)).Append("</td>");
            foreach (var answer in row.Answers)
                html.Append("<td class=\"").Append(answer.Passed ? "pass" : "fail").Append("\">").Append(E(answer.Text))
                    .Append("<div class=\"meta\">").Append(answer.Score.ToString("0.000")).Append(" · ").Append(answer.PromptTokens)
                    .Append("+").Append(answer.CompletionTokens).Append(" tokens · ").Append(answer.LatencyMs.ToString("0")).Append(" ms</div></td>");
            html.Append("</tr>\n");
        }
        html.Append("</table>\n");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private const string Style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
        table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
        .charts{display:flex;flex-wrap:wrap;gap:16px}figure{width:420px;height:320px;margin:0}figcaption{font-weight:600}
        .answers td{max-width:280px;white-space:pre-wrap;word-break:break-word}.pass{background:#eef8ee}.fail{background:#fbeeee}
        .meta{color:#666;font-size:12px;margin-top:4px}.verdict{font-weight:600}
        """;

    // Draws the three charts from the report JSON embedded above; no animation, so a screenshot sees them finished.
    // One function scope: page globals such as window.top must not clash with its names.
    private const string Charts = """
        (() => {
        const r = JSON.parse(document.getElementById('report').textContent);
        Chart.defaults.animation = false;
        Chart.defaults.maintainAspectRatio = false;
        const names = r.arms.map(a => a.name);
        const scores = [{label: 'score (' + r.scoring.metric + ')', data: r.arms.map(a => a.score), backgroundColor: '#3b7dd8'},
          {label: 'pass rate', data: r.arms.map(a => a.pass_rate), backgroundColor: '#6cc070'}];
        if (r.scoring.metric !== 'cosine') scores.push({label: 'cosine', data: r.arms.map(a => a.cosine), backgroundColor: '#20a0a0'});
        if (r.scoring.judge) scores.push({label: 'judge (' + r.scoring.judge + ')', data: r.arms.map(a => a.judge_score), backgroundColor: '#8e6bd8'});
        if (r.scoring.metric !== r.scoring.string_metric)
          scores.push({label: r.scoring.string_metric, data: r.arms.map(a => a.string_score), backgroundColor: '#f0a030'});
        new Chart(document.getElementById('score'), {type: 'bar', data: {labels: names, datasets: scores},
          options: {scales: {y: {beginAtZero: true}}}});
        new Chart(document.getElementById('tokens'), {type: 'bar', data: {labels: names, datasets: [
          {label: 'prompt tokens', data: r.arms.map(a => a.prompt_tokens_mean), backgroundColor: '#8e6bd8'},
          {label: 'completion tokens', data: r.arms.map(a => a.completion_tokens_mean), backgroundColor: '#d86b9a'}]},
          options: {scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true}}}});
        const priced = r.arms.filter(a => a.cost_per_1000 !== null);
        const top = Math.max(1000, (r.break_even_requests || 0) * 2);
        const xs = Array.from({length: 21}, (_, i) => Math.round(top * i / 20));
        const total = (a, n) => (a.name === 'fine_tuned' ? (r.training.cost || 0) : 0) + a.cost_per_1000 * n / 1000;
        const palette = ['#3b7dd8', '#d8503b', '#6cc070', '#f0a030', '#8e6bd8', '#20a0a0'];
        const lines = priced.map((a, i) => ({type: 'line', label: a.name, data: xs.map(n => ({x: n, y: total(a, n)})),
          borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length], pointRadius: 0}));
        const ft = priced.find(a => a.name === 'fine_tuned');
        if (r.break_even_requests !== null && ft)
          lines.push({type: 'scatter', label: 'break-even (' + r.break_even_requests + ' requests)',
            data: [{x: r.break_even_requests, y: total(ft, r.break_even_requests)}], pointRadius: 8, pointStyle: 'crossRot',
            borderColor: '#000', backgroundColor: '#000', borderWidth: 3});
        new Chart(document.getElementById('cost'), {type: 'line', data: {datasets: lines},
          options: {parsing: true, scales: {x: {type: 'linear', title: {display: true, text: 'requests'}},
            y: {beginAtZero: true, title: {display: true, text: 'USD (training + answers)'}}}}});
        })();
        """;
}
