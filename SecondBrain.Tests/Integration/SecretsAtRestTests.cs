using System.Net.Sockets;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// What an attacker who gets hold of one piece (a database copy, the Redis port, the process list) does not get: the
/// key ring is encrypted with a secret kept outside the database, the services run as a role that can only read and
/// write rows, Redis answers nobody without the password, provider secrets are secret parameters.
/// </summary>
[Collection(SecondBrainAppCollection.Name)]
public sealed class SecretsAtRestTests(SecondBrainAppFixture app)
{
    [Fact]
    public async Task The_data_protection_key_ring_is_encrypted_with_a_key_that_is_not_in_the_database()
    {
        // Connecting a provider protects its tokens, which needs (and creates) a key.
        await app.ConnectedTenantAsync("box");

        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT xml FROM data_protection_keys", connection);
        var keys = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                keys.Add(reader.GetString(0));
            }
        }

        Assert.NotEmpty(keys);
        Assert.All(keys, xml =>
        {
            Assert.Contains("<encryptedSecret", xml);
            Assert.Contains("AesGcmXmlDecryptor", xml);
            Assert.DoesNotContain("<masterKey", xml); // the plaintext key material is gone
        });
    }

    [Fact]
    public async Task The_services_connect_as_a_role_that_can_read_and_write_rows_and_nothing_more()
    {
        await using var owner = new NpgsqlConnection(app.DatabaseConnectionString);
        await owner.OpenAsync();
        await using (var role = new NpgsqlCommand("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = 'secondbrain_app'", owner))
        await using (var reader = await role.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync(), "the application role exists");
            Assert.False(reader.GetBoolean(0));
            Assert.False(reader.GetBoolean(1));
            Assert.False(reader.GetBoolean(2));
        }

        // The replicas' pooled connections are the application role's (the tests' own connections are the owner's).
        await using (var sessions = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'secondbrain' AND usename = 'secondbrain_app'", owner))
        {
            Assert.True((long)(await sessions.ExecuteScalarAsync())! > 0, "the services hold connections as secondbrain_app");
        }

        var appConnection = await app.App.GetConnectionStringAsync("secondbrain-app")
            ?? throw new InvalidOperationException("no application connection string");
        await using var application = new NpgsqlConnection(appConnection);
        await application.OpenAsync();
        await using (var read = new NpgsqlCommand("SELECT count(*) FROM tenants", application))
        {
            Assert.True((long)(await read.ExecuteScalarAsync())! >= 0);
        }

        foreach (var ddl in new[] { "CREATE TABLE stolen (x int)", "DROP TABLE documents", "ALTER TABLE tenants ADD COLUMN x int", "CREATE ROLE intruder SUPERUSER" })
        {
            await using var command = new NpgsqlCommand(ddl, application);
            var denied = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
        }
    }

    [Fact]
    public async Task Redis_answers_nobody_without_the_password()
    {
        var connection = await app.App.GetConnectionStringAsync("redis") ?? throw new InvalidOperationException("no redis connection string");
        Assert.Contains("password=", connection);
        var hostAndPort = connection.Split(',')[0];
        var separator = hostAndPort.LastIndexOf(':');
        using var client = new TcpClient();
        await client.ConnectAsync(hostAndPort[..separator], int.Parse(hostAndPort[(separator + 1)..]));
        await using var stream = client.GetStream();
        await stream.WriteAsync("PING\r\nKEYS *\r\n"u8.ToArray());
        var buffer = new byte[512];
        var reply = Encoding.ASCII.GetString(buffer, 0, await stream.ReadAsync(buffer));
        Assert.StartsWith("-NOAUTH", reply);
    }

    [Fact]
    public void Provider_client_secrets_reach_the_services_as_secret_parameters()
    {
        var model = app.App.Services.GetRequiredService<DistributedApplicationModel>();
        foreach (var provider in new[] { "gmail", "slack", "box" })
        {
            var parameter = model.Resources.OfType<ParameterResource>().SingleOrDefault(p => p.Name == $"{provider}-client-secret");
            Assert.NotNull(parameter);
            Assert.True(parameter.Secret, $"{provider}-client-secret is a secret parameter");
        }
    }
}
