"""``POST /Ocpp/CentralSystemService15``: carries OCPP 1.5 SOAP requests to the gateway."""

from __future__ import annotations

from quart import Blueprint, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from portal.context import get_gateway
from portal.security import csrf_exempt

__all__ = ["MAX_SOAP_BYTES", "bp"]

bp = Blueprint("soap15", __name__)

#: Requests over this size are not read: the gateway answers them with a SOAP Fault.
MAX_SOAP_BYTES = 256 * 1024


@bp.post("/Ocpp/CentralSystemService15")
@csrf_exempt
async def central_system_service_15() -> Response:
    """The bytes in, the gateway's SOAP answer (or Fault) out; no OCPP is read here."""
    request.max_content_length = MAX_SOAP_BYTES
    try:
        data = await request.get_data(cache=False)
        body = data.encode() if isinstance(data, str) else data
    except RequestEntityTooLarge:
        body = b" " * (MAX_SOAP_BYTES + 1)  # the gateway's size check answers the Fault
    headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()
    ]
    remote = request.remote_addr or "-"
    own_url = f"{request.scheme}://{request.host}{request.path}"
    answer = await get_gateway().handle_soap15(body, headers, remote, own_url)
    response = Response(answer.body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers:
        response.headers[name] = value
    return response
