using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using SecondBrain.TestSupport.Stack;

namespace SecondBrain.Tests.Infrastructure;

/// <summary>
/// A stack with low request limits (2 Api replicas, so a limit counted per instance would show), for the abuse
/// tests. Clients can speak from distinct loopback addresses (127.0.0.0/8 is all loopback on Linux), which is how
/// the tests play an attacker and a victim at different addresses.
/// </summary>
public sealed class AbuseLimitsFixture : SecondBrainAppFixture
{
    public const int AuthLimit = 40;
    public const int TenantLimit = 15;
    public const int MaxFailures = 5;

    protected override int ApiCount => 2;

    protected override int WorkerCount => 1;

    protected override void Configure(Dictionary<string, string> settings)
    {
        settings["RateLimits:Auth:PermitLimit"] = AuthLimit.ToString();
        settings["RateLimits:Auth:Window"] = "00:05:00";
        settings["RateLimits:Tenant:PermitLimit"] = TenantLimit.ToString();
        settings["RateLimits:Tenant:Window"] = "00:05:00";
        settings["Identity:LoginThrottle:MaxFailures"] = MaxFailures.ToString();
    }

    private static int _nextAddress;

    /// <summary>A loopback address no other test in this run speaks from.</summary>
    public static IPAddress NewClientAddress()
    {
        var n = Interlocked.Increment(ref _nextAddress) + (Environment.ProcessId % 200) * 250;
        return new IPAddress([127, (byte)(10 + n / 62_500 % 200), (byte)(n / 250 % 250), (byte)(1 + n % 250)]);
    }

    /// <summary>A client of <paramref name="replica"/> whose connections come from <paramref name="source"/>.</summary>
    public static HttpClient ClientFrom(Replica replica, IPAddress source, string? accessToken = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    var host = IPAddress.TryParse(context.DnsEndPoint.Host, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork ? ip : IPAddress.Loopback;
                    await socket.ConnectAsync(new IPEndPoint(host, context.DnsEndPoint.Port), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }
        };
        var client = new HttpClient(handler) { BaseAddress = replica.BaseAddress, Timeout = TimeSpan.FromSeconds(100) };
        if (accessToken is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        return client;
    }
}

[CollectionDefinition(Name)]
public sealed class AbuseLimitsCollection : ICollectionFixture<AbuseLimitsFixture>
{
    public const string Name = "SecondBrain app with low request limits";
}
