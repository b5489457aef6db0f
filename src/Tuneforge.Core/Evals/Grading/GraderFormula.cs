using System.Globalization;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// A multi grader's <c>calculate_output</c>: numbers, variables (sub-grader keys), <c>+ - * / ^</c> (^ binds tightest
/// and to the right; unary minus binds looser than ^, so -2^2 = -4), parentheses and the functions
/// <c>min max abs floor ceil exp sqrt log</c> (log is natural). Parsed once, evaluated per row.
/// </summary>
public sealed class GraderFormula
{
    private readonly Func<IReadOnlyDictionary<string, double>, double> _evaluate;

    private GraderFormula(string text, Func<IReadOnlyDictionary<string, double>, double> evaluate, IReadOnlySet<string> variables)
    {
        Text = text;
        _evaluate = evaluate;
        Variables = variables;
    }

    public string Text { get; }
    public IReadOnlySet<string> Variables { get; }

    public double Evaluate(IReadOnlyDictionary<string, double> values) => _evaluate(values);

    /// <summary>Parses <paramref name="text"/>; a syntax error throws <see cref="FormatException"/> saying where.</summary>
    public static GraderFormula Parse(string text)
    {
        var parser = new Parser(text);
        var evaluate = parser.Expression();
        parser.SkipSpaces();
        if (parser.Position < text.Length) throw new FormatException($"unexpected '{text[parser.Position]}' at position {parser.Position}");
        return new GraderFormula(text, evaluate, parser.Variables);
    }

    private sealed class Parser(string text)
    {
        public int Position;
        public readonly HashSet<string> Variables = [];

        private delegate double Node(IReadOnlyDictionary<string, double> values);

        public Func<IReadOnlyDictionary<string, double>, double> Expression()
        {
            var left = Term();
            while (Accept('+') || Accept('-'))
            {
                var op = text[Position - 1];
                var (l, r) = (left, Term());
                left = op == '+' ? v => l(v) + r(v) : v => l(v) - r(v);
            }
            return left;
        }

        private Func<IReadOnlyDictionary<string, double>, double> Term()
        {
            var left = Unary();
            while (Accept('*') || Accept('/'))
            {
                var op = text[Position - 1];
                var (l, r) = (left, Unary());
                left = op == '*' ? v => l(v) * r(v) : v => l(v) / r(v);
            }
            return left;
        }

        private Func<IReadOnlyDictionary<string, double>, double> Unary()
        {
            if (Accept('-')) { var operand = Unary(); return v => -operand(v); }
            if (Accept('+')) return Unary();
            var basis = Primary();
            if (!Accept('^')) return basis;
            var exponent = Unary();
            return v => Math.Pow(basis(v), exponent(v));
        }

        private Func<IReadOnlyDictionary<string, double>, double> Primary()
        {
            SkipSpaces();
            if (Accept('('))
            {
                var inner = Expression();
                Expect(')');
                return inner;
            }
            var start = Position;
            if (Position < text.Length && (char.IsDigit(text[Position]) || text[Position] == '.'))
            {
                while (Position < text.Length && (char.IsDigit(text[Position]) || text[Position] == '.')) Position++;
                if (Position < text.Length && text[Position] is 'e' or 'E')
                {
                    Position++;
                    if (Position < text.Length && text[Position] is '+' or '-') Position++;
                    while (Position < text.Length && char.IsDigit(text[Position])) Position++;
                }
                if (!double.TryParse(text[start..Position], NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                    throw new FormatException($"'{text[start..Position]}' at position {start} is not a number");
                return _ => number;
            }
            while (Position < text.Length && (char.IsLetterOrDigit(text[Position]) || text[Position] == '_')) Position++;
            if (start == Position)
                throw new FormatException(Position < text.Length ? $"unexpected '{text[Position]}' at position {Position}" : "the formula ends too early");
            var name = text[start..Position];
            if (!Accept('('))
            {
                Variables.Add(name);
                return v => v[name];
            }
            var args = new List<Func<IReadOnlyDictionary<string, double>, double>>();
            if (!Accept(')'))
            {
                do args.Add(Expression()); while (Accept(','));
                Expect(')');
            }
            return Function(name, args, start);
        }

        private static Func<IReadOnlyDictionary<string, double>, double> Function(string name,
            List<Func<IReadOnlyDictionary<string, double>, double>> args, int at)
        {
            if (name is "min" or "max")
            {
                if (args.Count == 0) throw new FormatException($"{name}() at position {at} needs at least one argument");
                return name == "min" ? v => args.Min(a => a(v)) : v => args.Max(a => a(v));
            }
            Func<double, double>? unary = name switch
            {
                "abs" => Math.Abs, "floor" => Math.Floor, "ceil" => Math.Ceiling, "exp" => Math.Exp, "sqrt" => Math.Sqrt, "log" => Math.Log,
                _ => null,
            };
            if (unary is null) throw new FormatException($"unknown function '{name}' at position {at}; expected min, max, abs, floor, ceil, exp, sqrt or log");
            if (args.Count != 1) throw new FormatException($"{name}() at position {at} takes one argument, got {args.Count}");
            var arg = args[0];
            return v => unary(arg(v));
        }

        public void SkipSpaces()
        {
            while (Position < text.Length && char.IsWhiteSpace(text[Position])) Position++;
        }

        private bool Accept(char c)
        {
            SkipSpaces();
            if (Position >= text.Length || text[Position] != c) return false;
            Position++;
            return true;
        }

        private void Expect(char c)
        {
            if (!Accept(c)) throw new FormatException(Position < text.Length ? $"expected '{c}' at position {Position}, found '{text[Position]}'" : $"expected '{c}' at the end");
        }
    }
}
