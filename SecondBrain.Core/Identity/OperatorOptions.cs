namespace SecondBrain.Core.Identity;

/// <summary>
/// The fleet's operators, named by the deployment (the AppHost's <c>Operators</c> section or its generated
/// operator account), never by a tenant: no API grants or revokes this. Operators see fleet-wide endpoints such as
/// the live instances; a tenant admin sees only their tenant.
/// </summary>
public sealed class OperatorOptions
{
    public const string SectionName = "Operators";

    public List<OperatorAccount> Accounts { get; set; } = [];

    public bool IsOperator(string email)
    {
        var normalized = User.Normalize(email);
        return Accounts.Any(a => !string.IsNullOrWhiteSpace(a.Email) && User.Normalize(a.Email) == normalized);
    }
}

public sealed class OperatorAccount
{
    public string Email { get; set; } = "";

    /// <summary>When set (from a secret parameter), the Worker creates the account if it does not exist yet.</summary>
    public string? Password { get; set; }

    public string DisplayName { get; set; } = "Operator";
}
