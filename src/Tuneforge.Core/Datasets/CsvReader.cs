using System.Text;

namespace Tuneforge.Core.Datasets;

/// <summary>
/// RFC 4180 CSV: fields separated by commas, optionally quoted; a quoted field may hold commas, newlines and doubled
/// quotes (""). Yields each record with the 1-based line it starts on.
/// </summary>
public static class CsvReader
{
    public static IEnumerable<(int Line, IReadOnlyList<string> Fields)> Read(TextReader reader)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var line = 1;
        var recordLine = 1;
        var quoted = false;      // inside a quoted field
        var wasQuoted = false;   // the current field was quoted (text after its closing quote is an error)
        var any = false;         // the current record has content
        int c;
        while ((c = reader.Read()) >= 0)
        {
            var ch = (char)c;
            if (quoted)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else quoted = false;
                }
                else
                {
                    if (ch == '\n') line++;
                    field.Append(ch);
                }
                continue;
            }
            switch (ch)
            {
                case '"' when field.Length == 0 && !wasQuoted:
                    quoted = wasQuoted = any = true;
                    break;
                case '"':
                    throw new InvalidDataException($"line {line}: a quote inside an unquoted field; quote the whole field and double the quote (\"\")");
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    wasQuoted = false;
                    any = true;
                    break;
                case '\r':
                    break;
                case '\n':
                    if (any || field.Length > 0)
                    {
                        fields.Add(field.ToString());
                        yield return (recordLine, fields.ToArray());
                    }
                    fields.Clear();
                    field.Clear();
                    wasQuoted = any = false;
                    line++;
                    recordLine = line;
                    break;
                default:
                    if (wasQuoted) throw new InvalidDataException($"line {line}: text after a closing quote");
                    field.Append(ch);
                    any = true;
                    break;
            }
        }
        if (quoted) throw new InvalidDataException($"line {recordLine}: a quoted field is never closed");
        if (any || field.Length > 0)
        {
            fields.Add(field.ToString());
            yield return (recordLine, fields.ToArray());
        }
    }
}
