"""Opaque global ids: base64 of "<Type>:<pk>". Shared by the API and by the links and webhook
bodies the workers send, so a client can use either to look the object up."""

import base64
import binascii

# Primary keys are 32-bit integers except where a table grows without bound; a larger number
# cannot name a row, and PostgreSQL refuses it as a parameter.
MAX_PK = 2**31 - 1
MAX_BIG_PK = 2**63 - 1
BIG_PK_TYPES = frozenset({"Notification"})


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
    if kind != type_name or not (pk.isascii() and pk.isdigit()) or len(pk) > 19:
        return None
    number = int(pk)
    return number if number <= max_pk(type_name) else None


def max_pk(type_name: str) -> int:
    """The largest primary key a row of ``type_name`` can have."""
    return MAX_BIG_PK if type_name in BIG_PK_TYPES else MAX_PK
