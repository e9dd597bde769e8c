using System.Collections.Concurrent;
using System.Text;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace SecondBrain.TestSupport.StandIns;

/// <summary>
/// An OpenTelemetry collector stand-in on WireMock.Net speaking OTLP over HTTP (protobuf): it accepts
/// <c>POST /v1/traces</c>, <c>/v1/metrics</c> and <c>/v1/logs</c> as a collector (or the Aspire dashboard) does, and
/// keeps what was exported so a test can ask whether a span of a given name arrived. Span names travel as UTF-8
/// strings inside the protobuf, so finding them needs no protobuf decoder.
/// </summary>
public sealed class OtlpStandIn : IDisposable
{
    private readonly WireMockServer _server = WireMockServer.Start();
    private readonly ConcurrentQueue<byte[]> _traces = new();

    public OtlpStandIn()
    {
        foreach (var signal in new[] { "traces", "metrics", "logs" })
        {
            _server.Given(Request.Create().WithPath($"/v1/{signal}").UsingPost())
                .RespondWith(Response.Create().WithCallback(request => Accept(signal, request)));
        }
    }

    /// <summary>The base endpoint to give the services as OTEL_EXPORTER_OTLP_ENDPOINT (protocol http/protobuf).</summary>
    public string Endpoint => _server.Url!;

    public int TraceExports => _traces.Count;

    /// <summary>Whether some exported trace batch holds a span named <paramref name="name"/> (and, if given, came from that service).</summary>
    public bool Exported(string name, string? service = null)
    {
        var spanName = Encoding.UTF8.GetBytes(name);
        var serviceName = service is null ? null : Encoding.UTF8.GetBytes(service);
        return _traces.Any(batch => batch.AsSpan().IndexOf(spanName) >= 0 && (serviceName is null || batch.AsSpan().IndexOf(serviceName) >= 0));
    }

    private ResponseMessage Accept(string signal, IRequestMessage request)
    {
        if (signal == "traces" && request.BodyAsBytes is { } body)
        {
            _traces.Enqueue(body);
            while (_traces.Count > 5000 && _traces.TryDequeue(out _))
            {
            }
        }

        // An empty Export*ServiceResponse is zero bytes of protobuf.
        return new ResponseMessage
        {
            StatusCode = 200,
            Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/x-protobuf") },
            BodyData = new BodyData { DetectedBodyType = BodyType.Bytes, BodyAsBytes = [] }
        };
    }

    public void Dispose() => _server.Stop();
}
