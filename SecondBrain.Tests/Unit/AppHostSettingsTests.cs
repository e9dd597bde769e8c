using Microsoft.Extensions.Configuration;
using SecondBrain.AppHost.Infrastructure;

namespace SecondBrain.Tests.Unit;

public sealed class AppHostSettingsTests
{
    private static AppHostSettings Read(params (string Key, string Value)[] values)
    {
        var settings = new Dictionary<string, string?>();
        foreach (var (key, value) in values)
        {
            settings[key] = value; // later values win, as they would on a command line
        }

        return AppHostSettings.Read(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), "/repo/SecondBrain.AppHost");
    }

    [Fact]
    public void Defaults_are_two_api_replicas_one_worker_and_data_under_the_repository()
    {
        var settings = Read(("Infra", "local"));
        Assert.Equal(InfraMode.Local, settings.Infra);
        Assert.Equal(2, settings.ApiReplicas);
        Assert.Equal(1, settings.WorkerReplicas);
        Assert.Equal("/repo/.data", settings.DataDirectory);
    }

    [Fact]
    public void Auto_resolves_to_a_concrete_mode()
    {
        var settings = Read(("Infra", "auto"));
        Assert.Contains(settings.Infra, new[] { InfraMode.Container, InfraMode.Local });
    }

    [Theory]
    [InlineData("Infra", "kubernetes")]
    [InlineData("ApiReplicas", "0")]
    [InlineData("WorkerReplicas", "many")]
    public void Bad_settings_are_refused_with_a_clear_message(string key, string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Read(("Infra", "local"), (key, value)));
        Assert.Contains(key, error.Message);
    }
}
