"""The spyne application of the OCPP 1.5 CentralSystemService (document/literal, bare),
called as WSGI in a worker thread; each operation hands its request back to Trio."""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
from collections.abc import Callable
from typing import Any

from spyne import Application, ComplexModel, DateTime, ServiceBase, const, rpc
from spyne.protocol.soap import Soap12
from spyne.server.wsgi import WsgiApplication

from gateway.ocpp15.models import OPERATIONS
from ocpp15wire.envelope import CONTENT_TYPE
from ocpp15wire.schema import CS_NS, element_name

__all__ = ["REQUEST_KEY", "call_wsgi", "from_model", "to_model", "wsgi_app"]

logging.getLogger("spyne").setLevel(logging.CRITICAL)  # a traceback per bad request otherwise
# spyne runs a full gc.collect() when a request ends (at most once a second, "to return file
# descriptors"): in a gateway holding thousands of stations each one stopped every station
# (1.6 too) for the whole collection. The gateway tunes its own collector: never here.
const.MIN_GC_INTERVAL = math.inf

#: Key of the per-request answerer in the WSGI environ.
REQUEST_KEY = "ocpp15.answer"

Answer = Callable[[str, dict[str, Any]], dict[str, Any]]


def from_model(value: Any) -> Any:
    """A spyne object (request) as plain data: dicts, lists, ISO date strings."""
    if isinstance(value, ComplexModel):
        fields = type(value).get_flat_type_info(type(value))
        out = {}
        for name in fields:
            item = getattr(value, name, None)
            if item is not None:
                out[name] = from_model(item)
        return out
    if isinstance(value, list | tuple):
        return [from_model(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


def to_model(cls: type[ComplexModel], data: dict[str, Any]) -> ComplexModel:
    """Plain data (an answer in the 1.5 shape) as an instance of the spyne model ``cls``."""
    fields = cls.get_flat_type_info(cls)
    values = {}
    for name, kind in fields.items():
        if data.get(name) is None:
            continue
        value = data[name]
        if isinstance(kind, type) and issubclass(kind, ComplexModel):
            value = to_model(kind, value)
        elif isinstance(kind, type) and issubclass(kind, DateTime) and isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        values[name] = value
    return cls(**values)


def _operation(name: str, request: type[ComplexModel], response: type[ComplexModel]) -> Any:

    def method(ctx: Any, body: ComplexModel) -> ComplexModel:
        answer: Answer = ctx.transport.req_env[REQUEST_KEY]
        return to_model(response, answer(name, from_model(body) or {}))

    method.__name__ = name
    return rpc(
        request,
        _returns=response,
        _body_style="bare",
        _in_message_name=element_name(name, "Request"),
        _out_message_name=element_name(name, "Response"),
    )(method)


CentralSystemService = type(
    "CentralSystemService",
    (ServiceBase,),
    {name: _operation(name, *models) for name, models in OPERATIONS.items()},
)


def wsgi_app() -> WsgiApplication:
    application = Application(
        [CentralSystemService],
        tns=CS_NS,
        name="CentralSystemService",
        in_protocol=Soap12(),  # the official schema is checked before (schema.py)
        out_protocol=Soap12(),
    )
    return WsgiApplication(application)


def call_wsgi(app: WsgiApplication, body: bytes, answer: Answer) -> tuple[int, bytes]:
    """Run one request through spyne (blocking: call from a worker thread)."""
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        status.append(line)

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "CONTENT_TYPE": CONTENT_TYPE,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        REQUEST_KEY: answer,
    }
    chunks = app(environ, start_response)
    data = b"".join(chunks)
    return int(status[0].split()[0]) if status else 500, data
