"""A running gateway + portal (the 1.5 endpoint's HTTP), raw SOAP requests, and checks of
every envelope against the official OCPP 1.5 WSDL schemas."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

import httpx
import trio
from lxml import etree

from db import Store
from gateway import Gateway, GatewayConfig
from ocpp15wire.envelope import SOAP12_NS, WSA_NS
from ocpp15wire.schema import CS_NS, WSDL_FILES, validate
from portal import create_app, serve_portal
from tests.gateway.conftest import TEST_CONFIG

CS = CS_NS
WSDL = str(WSDL_FILES[CS_NS])


@dataclass
class Rig:
    gateway: Gateway
    url: str


@asynccontextmanager
async def running(
    store: Store, config: GatewayConfig = TEST_CONFIG, tls: tuple[str, str] | None = None
) -> AsyncIterator[Rig]:
    gateway = Gateway(store, config=config)
    app = create_app(store, gateway, config={"SECRET_KEY": "x", "FTP_PORT": -1})
    cert, key = tls or (None, None)
    async with trio.open_nursery() as nursery:
        await nursery.start(gateway.serve, "127.0.0.1", 0)
        port = await nursery.start(
            partial(serve_portal, app, "127.0.0.1", 0, certfile=cert, keyfile=key)
        )
        scheme = "https" if tls else "http"
        yield Rig(gateway, f"{scheme}://127.0.0.1:{port}/Ocpp/CentralSystemService15")
        nursery.cancel_scope.cancel()


def envelope(
    body: str, charge_box_id: str | None = "CP15", message_id: str = "urn:uuid:1"
) -> bytes:
    header = (
        f"<cs:chargeBoxIdentity>{charge_box_id}</cs:chargeBoxIdentity>" if charge_box_id else ""
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP12_NS}" '
        f'xmlns:a="{WSA_NS}" xmlns:cs="{CS}"><s:Header>{header}'
        f"<a:MessageID>{message_id}</a:MessageID><a:Action>/X</a:Action>"
        f"<a:From><a:Address>http://127.0.0.1:1/cp</a:Address></a:From>"
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


async def post(
    url: str, data: bytes, auth: tuple[str, str] | None = None, verify: str | bool = True
) -> httpx.Response:
    async with httpx.AsyncClient(
        verify=ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
    ) as client:
        return await client.post(
            url,
            content=data,
            headers={"Content-Type": "application/soap+xml; charset=utf-8"},
            auth=auth,
        )


def body_of(data: bytes) -> etree._Element:
    """The one element in the Body of a SOAP 1.2 envelope."""
    root = etree.fromstring(data)
    (child,) = root.find(f"{{{SOAP12_NS}}}Body")
    return child


def fault_reason(data: bytes) -> str:
    element = body_of(data)
    assert element.tag == f"{{{SOAP12_NS}}}Fault", data
    return str(element.findtext(f"{{{SOAP12_NS}}}Reason/{{{SOAP12_NS}}}Text"))


def checked(data: bytes) -> etree._Element:
    """The body element, after checking it against the official schema."""
    element = body_of(data)
    validate(element)
    return element
