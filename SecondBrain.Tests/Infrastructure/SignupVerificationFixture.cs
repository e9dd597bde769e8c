namespace SecondBrain.Tests.Infrastructure;

/// <summary>A stack where sign-up confirms the address by mail, as a deployment runs it (the other stacks sign up at once).</summary>
public sealed class SignupVerificationFixture : SecondBrainAppFixture
{
    protected override int ApiCount => 2;

    protected override int WorkerCount => 1;

    protected override void Configure(Dictionary<string, string> settings) => settings["Identity:Signup:VerifyEmail"] = "true";
}

[CollectionDefinition(Name)]
public sealed class SignupVerificationCollection : ICollectionFixture<SignupVerificationFixture>
{
    public const string Name = "SecondBrain app with sign-up confirmed by mail";
}
