"""The gateway's lean TCP stream and listener: bytes, end of stream, closing, errors."""

from __future__ import annotations

import gc
import socket
import struct

import pytest
import trio
import trio.testing

from gateway.transport import TcpListener, TcpStream, open_listeners


async def _pair() -> tuple[TcpListener, TcpStream, trio.SocketStream]:
    (listener,) = await open_listeners(0, "127.0.0.1")
    client = await trio.open_tcp_stream("127.0.0.1", listener.port)
    server = await listener.accept()
    assert isinstance(server, TcpStream)
    return listener, server, client


async def test_bytes_cross_in_both_directions() -> None:
    listener, server, client = await _pair()
    async with listener, server, client:
        await client.send_all(b'[2,"1","Heartbeat",{}]')
        assert await server.receive_some(4096) == b'[2,"1","Heartbeat",{}]'
        await server.send_all(b'[3,"1",{}]')
        assert await client.receive_some(4096) == b'[3,"1",{}]'


async def test_the_peer_address_reads_as_host_and_port() -> None:
    listener, server, client = await _pair()
    async with listener, server, client:
        host, port = client.socket.getsockname()[:2]
        assert repr(server) == f"{host}:{port}"


async def test_a_large_send_waits_until_the_peer_reads() -> None:
    listener, server, client = await _pair()
    payload = bytes(range(256)) * 40_000  # 10 MB: far more than the socket buffers
    received = bytearray()

    async def read_all() -> None:
        while len(received) < len(payload):
            received.extend(await client.receive_some(65536))

    async with listener, server, client, trio.open_nursery() as nursery:
        nursery.start_soon(read_all)
        await server.send_all(payload)
    assert bytes(received) == payload


async def test_end_of_stream_reads_as_empty_bytes() -> None:
    listener, server, client = await _pair()
    async with listener, server:
        await client.send_eof()
        assert await server.receive_some() == b""
        await client.aclose()


async def test_send_eof_half_closes_the_stream() -> None:
    listener, server, client = await _pair()
    async with listener, server, client:
        await server.send_eof()
        assert await client.receive_some(10) == b""
        await client.send_all(b"still open this way")
        assert await server.receive_some(100) == b"still open this way"


async def test_closing_wakes_a_waiting_receiver_with_closed_resource_error() -> None:
    listener, server, client = await _pair()
    async with listener, client:
        outcome: list[BaseException] = []

        async def receive() -> None:
            try:
                await server.receive_some()
            except trio.ClosedResourceError as exc:
                outcome.append(exc)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(receive)
            await trio.testing.wait_all_tasks_blocked()
            await server.aclose()
        assert len(outcome) == 1
        with pytest.raises(trio.ClosedResourceError):
            await server.send_all(b"x")
        with pytest.raises(trio.ClosedResourceError):
            await server.receive_some()


async def test_a_reset_by_the_peer_is_a_broken_resource() -> None:
    listener, server, client = await _pair()
    async with listener, server:
        # SO_LINGER 0: close() sends RST instead of FIN
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await client.aclose()
        error: BaseException | None = None
        for _ in range(100):  # the first sends may still be buffered
            try:
                await server.send_all(b"x" * 65536)
            except trio.BrokenResourceError as exc:
                error = exc
                break
            await trio.sleep(0.001)
        assert isinstance(error, trio.BrokenResourceError)


async def test_send_honours_cancellation_on_entry() -> None:
    listener, server, client = await _pair()
    async with listener, server, client:
        with trio.CancelScope() as scope:
            scope.cancel()
            await server.send_all(b"never sent")
        assert scope.cancelled_caught


async def test_a_closed_listener_refuses_to_accept() -> None:
    (listener,) = await open_listeners(0, "127.0.0.1")
    await listener.aclose()
    with pytest.raises(trio.ClosedResourceError):
        await listener.accept()


async def test_the_listener_skips_nothing_under_a_burst_of_connections() -> None:
    (listener,) = await open_listeners(0, "127.0.0.1")
    accepted: list[trio.abc.Stream] = []
    async with listener:
        clients = [await trio.open_tcp_stream("127.0.0.1", listener.port) for _ in range(50)]
        while len(accepted) < 50:
            accepted.append(await listener.accept())
        for stream in [*accepted, *clients]:
            await stream.aclose()
    assert all(isinstance(stream, TcpStream) for stream in accepted)


async def test_a_stream_waiting_for_data_keeps_no_exception_alive() -> None:
    """An idle station's reader waits here nearly all the time: the EAGAIN of its last
    recv() (exception, traceback) must not live on per connection while it waits."""
    listener, server, client = await _pair()
    async with listener, server, client, trio.open_nursery() as nursery:
        nursery.start_soon(server.receive_some, 4096)
        await trio.testing.wait_all_tasks_blocked()
        gc.collect()
        assert not [o for o in gc.get_objects() if isinstance(o, BlockingIOError)]
        await client.send_all(b"x")


async def test_the_peer_address_is_kept_from_accept_even_after_a_reset() -> None:
    """The peer's address comes with the connection (accept), not from a later question
    to the kernel: a station that reset its connection is still named in the logs."""
    (listener,) = await open_listeners(0, "127.0.0.1")
    client = socket.create_connection(("127.0.0.1", listener.port))
    host, port = client.getsockname()[:2]
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()  # RST: getpeername() on the server side would now fail
    async with listener:
        server = await listener.accept()
        async with server:
            assert repr(server) == f"{host}:{port}"


async def test_an_ipv6_peer_reads_as_host_and_port() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        (listener,) = await open_listeners(0, "::1")
    except OSError:
        pytest.skip("no IPv6 loopback")
    async with listener:
        client = await trio.open_tcp_stream("::1", listener.port)
        server = await listener.accept()
        async with server, client:
            host, port = client.socket.getsockname()[:2]
            assert repr(server) == f"{host}:{port}"
