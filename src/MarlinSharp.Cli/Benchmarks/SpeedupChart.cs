using System.Globalization;
using System.Text;

namespace MarlinSharp.Cli.Benchmarks;

/// <summary>Draws speedup over FP16 against batch size (log2 axis) as a small standalone SVG file.</summary>
internal static class SpeedupChart
{
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

    public static string Render(string title, IReadOnlyList<(string Name, IReadOnlyList<(int M, double Speedup)> Points)> series)
    {
        const double width = 720, height = 420, left = 60, right = 20, top = 40, bottom = 50;
        var all = series.SelectMany(s => s.Points).ToList();
        if (all.Count == 0) throw new InvalidOperationException("Nothing to draw: no benchmark points.");
        double xMin = Math.Log2(all.Min(p => p.M)), xMax = Math.Max(Math.Log2(all.Max(p => p.M)), xMin + 1);
        double yMax = Math.Ceiling(Math.Max(4.0, all.Max(p => p.Speedup)) + 0.25);
        double X(double m) => left + (Math.Log2(m) - xMin) / (xMax - xMin) * (width - left - right);
        double Y(double s) => height - bottom - s / yMax * (height - top - bottom);
        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(width)}\" height=\"{F(height)}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append($"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{F(width / 2)}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>\n");
        for (int s = 0; s <= (int)yMax; s++)
        {
            svg.Append($"<line x1=\"{F(left)}\" x2=\"{F(width - right)}\" y1=\"{F(Y(s))}\" y2=\"{F(Y(s))}\" stroke=\"#ddd\"/>");
            svg.Append($"<text x=\"{F(left - 8)}\" y=\"{F(Y(s) + 4)}\" text-anchor=\"end\">{s}x</text>\n");
        }
        for (int e = (int)Math.Ceiling(xMin); e <= (int)xMax; e++)
            svg.Append($"<text x=\"{F(X(1 << e))}\" y=\"{F(height - bottom + 18)}\" text-anchor=\"middle\">{1 << e}</text>\n");
        svg.Append($"<line x1=\"{F(left)}\" x2=\"{F(width - right)}\" y1=\"{F(Y(1))}\" y2=\"{F(Y(1))}\" stroke=\"#666\" stroke-dasharray=\"4 3\"/>\n");
        svg.Append($"<line x1=\"{F(left)}\" x2=\"{F(width - right)}\" y1=\"{F(Y(3.88))}\" y2=\"{F(Y(3.88))}\" stroke=\"#2a2\" stroke-dasharray=\"2 3\"/>");
        svg.Append($"<text x=\"{F(width - right - 4)}\" y=\"{F(Y(3.88) - 4)}\" text-anchor=\"end\" fill=\"#2a2\">ideal 3.88x (g=128)</text>\n");
        svg.Append($"<text x=\"{F(width / 2)}\" y=\"{F(height - 12)}\" text-anchor=\"middle\">batch size m (rows)</text>\n");
        svg.Append($"<text transform=\"translate(16 {F(height / 2)}) rotate(-90)\" text-anchor=\"middle\">speedup over cuBLAS FP16</text>\n");
        for (int i = 0; i < series.Count; i++)
        {
            string color = Colors[i % Colors.Length];
            var pts = series[i].Points.OrderBy(p => p.M).ToList();
            svg.Append($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(" ", pts.Select(p => $"{F(X(p.M))},{F(Y(p.Speedup))}"))}\"/>\n");
            foreach (var p in pts) svg.Append($"<circle cx=\"{F(X(p.M))}\" cy=\"{F(Y(p.Speedup))}\" r=\"3\" fill=\"{color}\"/>");
            svg.Append($"\n<text x=\"{F(left + 10)}\" y=\"{F(top + 16 + 16 * i)}\" fill=\"{color}\">{Escape(series[i].Name)}</text>\n");
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
