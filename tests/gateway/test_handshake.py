"""The listener's one-pass opening handshake answers every request as wsproto's own does."""

from __future__ import annotations

import hashlib
import inspect
import random
from typing import Any

import pytest
import trio
from trio_websocket import WebSocketServer, open_websocket_url
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, RejectConnection, RejectData, Request, TextMessage
from wsproto.handshake import H11Handshake
from wsproto.utilities import LocalProtocolError

from gateway.handshake import FastHandshake, GatewayWebSocketServer

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def request(*lines: str, target: str = "/Ocpp/websocket/CP1") -> bytes:
    head = [
        f"GET {target} HTTP/1.1",
        "Host: 127.0.0.1:8180",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {KEY.decode()}",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: ocpp1.6",
        *lines,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


PLAIN = request()
CASES: dict[str, bytes] = {
    "plain": PLAIN,
    "basic auth": request("Authorization: Basic Q1AxOnNlY3JldA=="),
    "two subprotocols": PLAIN.replace(b"ocpp1.6", b"ocpp2.0.1, ocpp1.6"),
    "no subprotocol": PLAIN.replace(b"Sec-WebSocket-Protocol: ocpp1.6\r\n", b""),
    "lower-case names, spaces": PLAIN.lower()
    .replace(b"key: ", b"key:   ")
    .replace(KEY.lower(), KEY),
    "keep-alive, upgrade": PLAIN.replace(
        b"Connection: Upgrade", b"Connection: keep-alive, Upgrade"
    ),
    "query string": request(target="/Ocpp/websocket/CP1?x=1&y=%20"),
    "no Host": PLAIN.replace(b"Host: 127.0.0.1:8180\r\n", b""),
    "two Hosts": request("Host: example.org"),
    "no key": PLAIN.replace(b"Sec-WebSocket-Key: " + KEY + b"\r\n", b""),
    "two keys": request("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="),
    "version 8": PLAIN.replace(b"Version: 13", b"Version: 8"),
    "no version": PLAIN.replace(b"Sec-WebSocket-Version: 13\r\n", b""),
    "upgrade h2c": PLAIN.replace(b"Upgrade: websocket", b"Upgrade: h2c"),
    "no Connection upgrade": PLAIN.replace(b"Connection: Upgrade", b"Connection: close"),
    "POST": PLAIN.replace(b"GET ", b"POST "),
    "HTTP/1.0": PLAIN.replace(b"HTTP/1.1", b"HTTP/1.0"),
    "extensions": request("Sec-WebSocket-Extensions: permessage-deflate"),
    "a body": request("Content-Length: 3") + b"abc",
    "chunked": request("Transfer-Encoding: chunked") + b"0\r\n\r\n",
    "expect": request("Expect: 100-continue"),
    "obs-fold": request("X-Long: one", " two"),
    "no colon": request("Broken header"),
    "space before colon": request("X-Space : 1"),
    "non-ASCII value": request("X-Name: Åsa").replace("Å".encode(), b"\xc5"),
    "control character": request("X-Bell: a\x07b"),
    "NUL in target": request(target="/Ocpp/websocket/C\x00P1"),
    "space in target": request(target="/Ocpp/websocket/C P1"),
    "a frame after the head": PLAIN + b"\x81\x80\x00\x00\x00\x00",
    "leading empty line": b"\r\n" + PLAIN,
    "idna host": PLAIN.replace(b"127.0.0.1:8180", b"xn--bcher-kva.example"),
    "bad idna host": PLAIN.replace(b"127.0.0.1:8180", b"xn--a.example"),
    "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n",
    "long head": request(*(f"X-Fill-{i}: {'x' * 100}" for i in range(120))),
    "endless head": b"GET / HTTP/1.1\r\nX: " + b"y" * 20_000,
}


def outcome(fn: Any) -> Any:
    """What a call did: its value, or the error (type, text, the hint of an answer)."""
    try:
        return ("ok", fn())
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc), repr(getattr(exc, "event_hint", None)))


def drive(handshake: Any, data: bytes, chunk: int, then: list[Any]) -> list[Any]:
    """Feed ``data`` in chunks, then send each event of ``then``; everything observed."""
    seen: list[Any] = []
    for i in range(0, len(data), chunk):
        piece = data[i : i + chunk]
        seen.append(outcome(lambda piece=piece: handshake.receive_data(piece)))
        seen.append(outcome(lambda: list(handshake.events())))
        seen.append(handshake.state)
        if seen[-3][0] == "error":
            break
    for event in then:
        seen.append(outcome(lambda event=event: handshake.send(event)))
        seen.append(handshake.state)
    connection = handshake.connection
    seen.append(None if connection is None else (type(connection), connection.state))
    return seen


ANSWERS: dict[str, list[Any]] = {
    "accept ocpp1.6": [AcceptConnection(subprotocol="ocpp1.6")],
    "accept without subprotocol": [AcceptConnection()],
    "accept a subprotocol not offered": [AcceptConnection(subprotocol="ocpp2.0.1")],
    "accept with a header": [AcceptConnection(extra_headers=[(b"X-Server", b"gw")])],
    "reject 404 with a body": [
        RejectConnection(status_code=404, has_body=True, headers=[(b"content-length", b"9")]),
        RejectData(data=b"Not found"),
    ],
    "reject 401 without a body": [RejectConnection(status_code=401)],
}


@pytest.mark.parametrize("answer", sorted(ANSWERS))
@pytest.mark.parametrize("chunk", [1, 7, 1 << 20])
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_request_gets_wsprotos_answer(case: str, chunk: int, answer: str) -> None:
    data = CASES[case]
    if chunk == 1 and len(data) > 2000:
        chunk = 61  # the long heads byte by byte take long and show nothing more
    then = ANSWERS[answer]
    fast = drive(FastHandshake(), data, chunk, then)
    real = drive(H11Handshake(ConnectionType.SERVER), data, chunk, then)
    assert fast == real


def test_the_usual_request_takes_one_pass_and_h11_is_never_built() -> None:
    handshake = FastHandshake()
    handshake.receive_data(PLAIN)
    (event,) = handshake.events()
    assert isinstance(event, Request)
    reply = handshake.send(AcceptConnection(subprotocol="ocpp1.6"))
    assert event.target == "/Ocpp/websocket/CP1"
    assert event.subprotocols == ["ocpp1.6"]
    assert reply.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in reply  # RFC 6455 §1.3
    assert handshake._real is None


def test_a_second_answer_after_the_accept_is_refused() -> None:
    handshake = FastHandshake()
    handshake.receive_data(PLAIN)
    handshake.send(AcceptConnection())
    with pytest.raises(LocalProtocolError):
        handshake.send(AcceptConnection())


def test_end_of_stream_in_the_head_is_wsprotos() -> None:
    for data in (b"", None):
        fast, real = FastHandshake(), H11Handshake(ConnectionType.SERVER)
        seen = []
        for handshake in (fast, real):
            handshake.receive_data(PLAIN[:30])
            seen.append(
                (outcome(lambda h=handshake, d=data: h.receive_data(d)), list(handshake.events()))
            )
        assert seen[0] == seen[1]
        assert seen[0][0][0] == "error"  # the peer closed inside its request


def test_mangled_requests_get_wsprotos_answer() -> None:
    """Random byte edits of a station's request: the same events, errors and replies."""
    rng = random.Random(19)
    alphabet = b" \t\r\n:,;=\x00\x7f\xffAaZz019-/"
    for _ in range(600):  # fixed seed: the 2,000 before took 2.1 s, no kind of answer more
        data = bytearray(PLAIN)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data))
            what = rng.randrange(3)
            if what == 0:
                del data[at]
            elif what == 1:
                data[at] = rng.choice(alphabet)
            else:
                data.insert(at, rng.choice(alphabet))
        then = [AcceptConnection(subprotocol="ocpp1.6")]
        chunk = rng.choice([1, 5, 1 << 20])
        fast = drive(FastHandshake(), bytes(data), chunk, then)
        real = drive(H11Handshake(ConnectionType.SERVER), bytes(data), chunk, then)
        assert fast == real, bytes(data)


def test_frames_after_the_handshake_are_the_same() -> None:
    frame = b"\x81\x85\x01\x02\x03\x04" + bytes(
        b ^ k for b, k in zip(b"[2,1]", b"\x01\x02\x03\x04\x01", strict=True)
    )
    seen = []
    for handshake in (FastHandshake(), H11Handshake(ConnectionType.SERVER)):
        connection = WSConnection(ConnectionType.SERVER)
        connection.handshake = handshake  # type: ignore[assignment]
        connection.receive_data(PLAIN)
        events = list(connection.events())
        reply = connection.send(AcceptConnection(subprotocol="ocpp1.6"))
        connection.receive_data(frame)
        events += list(connection.events())
        out = connection.send(TextMessage(data="[3,1,{}]"))
        seen.append((events, reply, out, connection.state))
    assert seen[0] == seen[1]
    assert seen[0][0][-1] == TextMessage(data="[2,1]", frame_finished=True, message_finished=True)


def test_the_server_copy_follows_trio_websockets_own() -> None:
    """GatewayWebSocketServer._handle_connection copies trio-websocket 0.12.2's: a new
    release must be compared with it before this pin moves."""
    source = inspect.getsource(WebSocketServer._handle_connection)
    assert hashlib.sha256(source.encode()).hexdigest()[:16] == "8410285aa857d6c4"


async def test_a_client_library_connects_through_the_gateway_server() -> None:
    """A real client over a real socket: subprotocol agreed, messages both ways."""

    async def handler(request: Any) -> None:
        ws = await request.accept(subprotocol="ocpp1.6")
        await ws.send_message(await ws.get_message())

    server = GatewayWebSocketServer(
        handler, await trio.open_tcp_listeners(0, host="127.0.0.1"), message_queue_size=1
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(server.run)
        url = f"ws://127.0.0.1:{server.port}/Ocpp/websocket/CP1"
        async with open_websocket_url(url, subprotocols=["ocpp1.6"]) as ws:
            assert ws.subprotocol == "ocpp1.6"
            await ws.send_message("[2,1,{}]")
            assert await ws.get_message() == "[2,1,{}]"
        nursery.cancel_scope.cancel()
