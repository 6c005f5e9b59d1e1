"""The client's IP address, as seen through trusted reverse proxies.

Behind nginx every request comes from 127.0.0.1: the real client is in
`X-Forwarded-For`, which anybody can also write. So the header is believed only when
the direct peer is a configured trusted proxy, and then read from the right: each
trusted proxy appends the address it saw, so the right-most address that is not a
trusted proxy is the first one no trusted party vouches beyond: the client. Whatever a
client wrote into the header itself sits to the left of it and is ignored.

Pure functions, shared by the HTTP routes and the WebSocket gateway.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN = "unknown"


def parse_ip(raw: str) -> IPAddress | None:
    """An address from a header or a socket: tolerates a port, brackets and a zone;
    an IPv4-mapped IPv6 address becomes the IPv4 address."""
    s = raw.strip().strip('"')
    if s.startswith("["):  # [v6] or [v6]:port
        s = s[1 : s.find("]")] if "]" in s else s[1:]
    elif s.count(":") == 1:  # v4:port
        s = s.split(":", 1)[0]
    s = s.split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(ip.version == net.version and ip in net for net in proxies)


def client_ip(peer: str | None, forwarded_for: Iterable[str], proxies: Sequence[IPNetwork]) -> str:
    """The client address for limits and logs (`unknown` when the peer has none, e.g.
    a Unix socket). `forwarded_for` are the X-Forwarded-For header values in order."""
    direct = parse_ip(peer) if peer else None
    if direct is None:
        return UNKNOWN
    if not proxies or not _trusted(direct, proxies):
        return str(direct)
    hops = [h for value in forwarded_for for h in value.split(",")]
    client = direct
    for raw in reversed(hops):
        if not raw.strip():
            continue
        ip = parse_ip(raw)
        if ip is None:
            break  # garbage a trusted proxy passed on: trust nothing further left
        client = ip
        if not _trusted(ip, proxies):
            break
    return str(client)


def forwarded_https(peer: str | None, forwarded_proto: str | None, proxies: Sequence[IPNetwork]) -> bool:
    """Whether a trusted proxy says the client spoke HTTPS (X-Forwarded-Proto)."""
    direct = parse_ip(peer) if peer else None
    if direct is None or not forwarded_proto or not _trusted(direct, proxies):
        return False
    return forwarded_proto.split(",")[0].strip().lower() == "https"
