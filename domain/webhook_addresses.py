"""Which webhook hosts are public: one rule for saving a webhook URL and for delivering to it.

Saving looks at the host as written (a name is not resolved then: DNS can change before the
first delivery); delivery resolves the name and applies the same address rule to every address
it gets."""

import ipaddress
import socket

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

INTERNAL_NAME_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052 and 8215).
NAT64_PREFIXES = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4, Teredo), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in prefix for prefix in NAT64_PREFIXES):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def is_public_address(address: IpAddress) -> bool:
    """True for a globally routable unicast address, also behind an IPv6 wrapping."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_link_local
    )


def literal_address(host: str) -> IpAddress | None:
    """The address a host names without DNS: dotted, shortened (127.1), hexadecimal
    (0x7f000001), decimal (2130706433) and octal IPv4 forms as the resolver reads them, and
    IPv6 with or without brackets; None for a name."""
    host = host.strip("[]")
    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(str(infos[0][4][0]).split("%")[0])


def is_internal_name(host: str) -> bool:
    """Names that only mean something inside a network: localhost and private suffixes, with
    or without the final dot."""
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(INTERNAL_NAME_SUFFIXES)


def private_host_problem(host: str) -> str | None:
    """Why webhooks cannot go to ``host``, or None when it may be public."""
    if is_internal_name(host):
        return "Webhooks go to public hosts only."
    address = literal_address(host)
    if address is not None and not is_public_address(address):
        return f"Webhooks go to public addresses only; {host} is {address}."
    return None
