using System.Net.Mail;
using SecondBrain.Core.Errors;

namespace SecondBrain.Core.Common;

/// <summary>Collects field errors and turns them into one <see cref="ApiProblem"/> with code validation_failed.</summary>
public sealed class Validation
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public Validation Require(string field, string? value, int maxLength = 200)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(field, $"{field} is required.");
        }
        else if (value.Length > maxLength)
        {
            Add(field, $"{field} must be at most {maxLength} characters.");
        }

        return this;
    }

    public Validation Email(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(field, $"{field} is required.");
        }
        else if (value.Length > 320 || !MailAddress.TryCreate(value.Trim(), out var parsed) || parsed.Address != value.Trim())
        {
            Add(field, $"{field} is not a valid e-mail address.");
        }

        return this;
    }

    public Validation Password(string field, string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length < 8)
        {
            Add(field, $"{field} must be at least 8 characters.");
        }
        else if (value.Length > 256)
        {
            Add(field, $"{field} must be at most 256 characters.");
        }

        return this;
    }

    public Validation Check(bool condition, string field, string message)
    {
        if (!condition)
        {
            Add(field, message);
        }

        return this;
    }

    public ApiProblem? ToProblem() =>
        _errors.Count == 0 ? null : ApiProblem.Validation(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));

    private void Add(string field, string message)
    {
        var key = char.ToLowerInvariant(field[0]) + field[1..];
        if (!_errors.TryGetValue(key, out var list))
        {
            _errors[key] = list = [];
        }

        list.Add(message);
    }
}
