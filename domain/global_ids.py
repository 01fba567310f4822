"""Opaque global ids: base64 of "<Type>:<pk>". Shared by the API and by the links and webhook
bodies the workers send, so a client can use either to look the object up."""

import base64
import binascii


def encode_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode()


def decode_global_id(global_id: str, type_name: str) -> int | None:
    """The primary key behind ``global_id`` when it names a ``type_name``, else None."""
    if not isinstance(global_id, str) or len(global_id) > 100:
        return None
    try:
        decoded = base64.urlsafe_b64decode(global_id.encode() + b"=" * (-len(global_id) % 4))
        kind, _, pk = decoded.decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if kind != type_name or not pk.isdigit() or len(pk) > 18:
        return None
    return int(pk)
