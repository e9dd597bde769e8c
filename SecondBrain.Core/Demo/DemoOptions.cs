namespace SecondBrain.Core.Demo;

public sealed class DemoOptions
{
    public const string SectionName = "Demo";

    /// <summary>Seed a demo tenant on start (the README's run command turns this on).</summary>
    public bool Enabled { get; set; }

    public string TenantName { get; set; } = "Demo Company";

    public string AdminEmail { get; set; } = "demo@secondbrain.local";

    /// <summary>Comes from the AppHost's demo-password parameter, never from code.</summary>
    public string AdminPassword { get; set; } = "";
}
