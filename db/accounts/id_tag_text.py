"""What an id tag is: any OCPP idTag (CiString20), stored exactly as given.

A station sends its idTag as it reads it; the central system must find the same
text. Conversions (a badge number typed in hexadecimal) belong to the one form that
offers them, where the person sees the result before saving (``portal.provisioning``).
"""

from __future__ import annotations

__all__ = ["ID_TAG_RULE", "MAX_ID_TAG", "id_tag_ok"]

MAX_ID_TAG = 20  # OCPP 1.6 IdToken: CiString20Type

#: The one sentence every entry point (command line, JSON API, portal) answers with.
ID_TAG_RULE = "an id tag is 1 to 20 printable ASCII characters (OCPP CiString20)"


def id_tag_ok(text: str) -> bool:
    """1 to 20 printable ASCII characters (OCPP 1.6: CiString holds printable ASCII)."""
    return 0 < len(text) <= MAX_ID_TAG and text.isascii() and text.isprintable()
