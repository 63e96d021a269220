#!/usr/bin/env python3
"""A gRPC echo service and its client (grpcio, raw-bytes messages, no protobuf), to check a
proxy end to end.

  grpc_echo.py serve PORT [--tls CERT KEY]
                                     serves echo.Echo on 127.0.0.1:PORT (h2c, or TLS with
                                     the certificate and key files) until killed
  grpc_echo.py call TARGET [--tls CA SNI] [--dead]
                                     calls through TARGET (host:port; over TLS with the CA
                                     file and server name when given) and prints one line per
                                     check, `ok <name> <detail>` or `FAIL <name> <detail>`;
                                     exits 1 when a check failed. `--dead` also calls
                                     /dead.Dead/Call, which the proxy routes to a server that
                                     is down: UNAVAILABLE expected (HTTP 502)

Methods: Say (unary: echoes the request), Count (server streaming: N messages `<i>:<req>`),
Fail (unary: NOT_FOUND with a message and a trailing metadata entry), Collect (client
streaming: joins the requests).
"""
import sys
import time
from concurrent import futures

import grpc


def say(request, context):
    context.set_trailing_metadata((("echo-trailer", "said"),))
    return request


def count(request, context):
    n = int(request.split(b":")[0])
    for i in range(n):
        yield b"%d:%s" % (i, request)


def fail(request, context):
    context.set_trailing_metadata((("echo-reason", "missing"),))
    context.abort(grpc.StatusCode.NOT_FOUND, "no such thing: " + request.decode())


def collect(request_iterator, context):
    return b"+".join(request_iterator)


def serve(port, cert=None, key=None):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    handlers = {
        "Say": grpc.unary_unary_rpc_method_handler(say),
        "Count": grpc.unary_stream_rpc_method_handler(count),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
        "Collect": grpc.stream_unary_rpc_method_handler(collect),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("echo.Echo", handlers),))
    if cert:
        creds = grpc.ssl_server_credentials(((open(key, "rb").read(), open(cert, "rb").read()),))
        server.add_secure_port("127.0.0.1:%d" % port, creds)
    else:
        server.add_insecure_port("127.0.0.1:%d" % port)
    server.start()
    print("serving", flush=True)
    server.wait_for_termination()


def call(target, ca=None, sni=None, dead=False):
    if ca:
        creds = grpc.ssl_channel_credentials(root_certificates=open(ca, "rb").read())
        channel = grpc.secure_channel(target, creds, options=(("grpc.ssl_target_name_override", sni),))
    else:
        channel = grpc.insecure_channel(target)
    grpc.channel_ready_future(channel).result(timeout=10)
    failed = False

    def check(name, cond, detail):
        nonlocal failed
        print("%s %s %s" % ("ok" if cond else "FAIL", name, detail), flush=True)
        failed |= not cond

    say_rpc = channel.unary_unary("/echo.Echo/Say")
    resp, c = say_rpc.with_call(b"hello", timeout=10)
    trailers = metadata(c.trailing_metadata())
    check("unary", resp == b"hello" and c.code() == grpc.StatusCode.OK, repr(resp))
    check("unary-trailers", trailers.get("echo-trailer") == "said", repr(trailers))

    big = bytes(range(256)) * 4096  # 1 MiB
    resp = say_rpc(big, timeout=20)
    check("unary-1MiB", resp == big, "%d bytes" % len(resp))

    stream = channel.unary_stream("/echo.Echo/Count")(b"5:x", timeout=10)
    got = list(stream)
    check(
        "server-streaming",
        got == [b"%d:5:x" % i for i in range(5)] and stream.code() == grpc.StatusCode.OK,
        repr(got),
    )

    try:
        channel.unary_unary("/echo.Echo/Fail").with_call(b"thing", timeout=10)
        check("error-status", False, "no error")
    except grpc.RpcError as e:
        trailers = metadata(e.trailing_metadata())
        check(
            "error-status",
            e.code() == grpc.StatusCode.NOT_FOUND and e.details() == "no such thing: thing",
            "%s %r" % (e.code(), e.details()),
        )
        check("error-trailers", trailers.get("echo-reason") == "missing", repr(trailers))

    resp = channel.stream_unary("/echo.Echo/Collect")(iter([b"a", b"b", b"c"]), timeout=10)
    check("client-streaming", resp == b"a+b+c", repr(resp))

    # Several calls at once share the proxy's connections.
    calls = [say_rpc.future(b"n%d" % i, timeout=10) for i in range(50)]
    results = [f.result() for f in calls]
    check("concurrent-50", results == [b"n%d" % i for i in range(50)], "%d answers" % len(results))

    try:
        channel.unary_unary("/nope.Nope/Missing")(b"", timeout=10)
        check("unknown-method", False, "no error")
    except grpc.RpcError as e:
        check("unknown-method", e.code() == grpc.StatusCode.UNIMPLEMENTED, str(e.code()))
    if dead:
        try:
            channel.unary_unary("/dead.Dead/Call")(b"", timeout=10)
            check("backend-down", False, "no error")
        except grpc.RpcError as e:
            check("backend-down", e.code() == grpc.StatusCode.UNAVAILABLE, "%s %r" % (e.code(), e.details()))
    channel.close()
    return 1 if failed else 0


def metadata(md):
    """Trailing metadata as a dict, without the `date` a proxy may add (it changes)."""
    return {k: v for k, v in (md or ()) if k != "date"}


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        tls = sys.argv[4:6] if sys.argv[3:4] == ["--tls"] else []
        serve(int(sys.argv[2]), *tls)
    elif len(sys.argv) >= 3 and sys.argv[1] == "call":
        args = sys.argv[3:]
        ca = sni = None
        if "--tls" in args:
            i = args.index("--tls")
            ca, sni = args[i + 1], args[i + 2]
        sys.exit(call(sys.argv[2], ca, sni, "--dead" in args))
    else:
        print(__doc__)
        sys.exit(2)
