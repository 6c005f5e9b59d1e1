"""TLS for `semot serve`: HTTPS and wss on the serving port, without a proxy in front.

The server context accepts TLS 1.2 and 1.3 only (1.3 is chosen whenever the client has
it), and for TLS 1.2 only forward-secret AEAD suites (ECDHE with AES-GCM or
ChaCha20-Poly1305); compression and renegotiation are off. TLS 1.3's suites are
OpenSSL's defaults, which are all AEAD.

`TlsReloader.reload()` (SIGHUP) loads the certificate and key files again into the SAME
live `SSLContext`: OpenSSL gives each new handshake the context's current pair, while
connections already open keep the one they shook hands with, so a renewed certificate
(e.g. by certbot) takes effect without dropping a single WebSocket. The new pair is
first loaded into a scratch context, so a half-written or mismatched pair is refused
and logged while the old pair keeps serving (load_cert_chain could otherwise leave the
live context with the new certificate and the old key).

`redirect_app` answers plain HTTP on an optional second port with a 308 to the HTTPS
address. `self_signed` makes a certificate for intranet trials (`semot tls self-signed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import logging
import os
import re
import signal
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from semot.api.connections import ConnectionGuard, GuardedSite
from semot.config import Settings
from semot.datadir import FILE_MODE

log = logging.getLogger(__name__)

# TLS 1.2 suites: ECDHE key exchange (forward secrecy), AEAD ciphers, server's order
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!MD5:!DSS:!SHA1"


class TlsError(Exception):
    """A certificate or key that cannot be used, with a message for the operator."""


def _load_pair(ctx: ssl.SSLContext, cert: Path, key: Path, named: tuple[Path, Path] | None = None) -> None:
    """Load the pair; errors name `named` (the operator's files) when loading copies."""
    try:
        ctx.load_cert_chain(certfile=str(cert), keyfile=str(key))
    except FileNotFoundError as exc:
        raise TlsError(f"TLS file not found: {exc.filename}") from None
    except PermissionError as exc:
        raise TlsError(f"TLS file not readable: {exc.filename}") from None
    except ssl.SSLError as exc:
        shown = named or (cert, key)
        raise TlsError(f"cannot use the TLS certificate {shown[0]} with the key {shown[1]}: {exc.reason or exc}") from None


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The listening socket's context: TLS 1.2+, modern ciphers, the given pair."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(TLS12_CIPHERS)
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_SINGLE_ECDH_USE
    ctx.options |= getattr(ssl, "OP_NO_RENEGOTIATION", 0)
    ctx.set_alpn_protocols(["http/1.1"])
    _load_pair(ctx, cert, key)
    return ctx


@dataclass
class TlsReloader:
    """Reloads the pair from its files into the live context (SIGHUP)."""

    context: ssl.SSLContext
    cert: Path
    key: Path
    reloads: int = 0

    def reload(self) -> bool:
        try:
            # one read of the pair (certbot may swap the files meanwhile): checked in a
            # scratch context first, so the live one is never half-loaded, then loaded
            # into the live one from the same private copies
            with _copies(self.cert, self.key) as (cert, key):
                _load_pair(_scratch(), cert, key, (self.cert, self.key))
                _load_pair(self.context, cert, key, (self.cert, self.key))
        except TlsError as exc:
            log.error("TLS certificate NOT reloaded (the previous one stays in use): %s", exc)
            return False
        self.reloads += 1
        log.info("TLS certificate reloaded from %s", self.cert)
        return True


def _scratch() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)


@contextlib.contextmanager
def _copies(cert: Path, key: Path) -> Iterator[tuple[Path, Path]]:
    """The pair's bytes, read once each, in a private (0700) directory that is removed
    afterwards; OpenSSL loads only from paths."""
    try:
        data = cert.read_bytes(), key.read_bytes()
    except FileNotFoundError as exc:
        raise TlsError(f"TLS file not found: {exc.filename}") from None
    except PermissionError as exc:
        raise TlsError(f"TLS file not readable: {exc.filename}") from None
    with tempfile.TemporaryDirectory(prefix="semot-tls-") as tmp:
        copies = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        for path, content in zip(copies, data, strict=True):
            _write(path, content, FILE_MODE)
        yield copies


class TlsServing:
    """What `serve` runs for TLS: the live context, SIGHUP reloads, the redirect port."""

    def __init__(self, reloader: TlsReloader, redirect_port: int, public_url: str | None) -> None:
        self.reloader = reloader
        self.redirect_port = redirect_port
        self.public_url = public_url
        self._runner: web.AppRunner | None = None
        self._site: web.BaseSite | None = None

    @property
    def context(self) -> ssl.SSLContext:
        return self.reloader.context

    @classmethod
    def from_settings(cls, settings: Settings) -> TlsServing | None:
        """None without TLS; raises TlsError for a pair that cannot be used."""
        if settings.tls_cert is None or settings.tls_key is None:
            return None
        context = server_context(settings.tls_cert, settings.tls_key)
        return cls(TlsReloader(context, settings.tls_cert, settings.tls_key), settings.tls_redirect_port,
                   settings.public_url)

    async def start(self, host: str, https_port: int, guard: ConnectionGuard) -> None:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, self.reloader.reload)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (in-process tests), Windows
            log.warning("SIGHUP cannot be handled here: the TLS certificate is not reloaded on SIGHUP")
        if self.redirect_port:
            self._runner = web.AppRunner(redirect_app(https_port, self.public_url), handle_signals=False, access_log=None)
            await self._runner.setup()
            self._site = GuardedSite(self._runner, host, self.redirect_port, guard=guard, access_log=None)
            try:
                await self._site.start()
            except OSError as exc:  # taken by another program, or a privileged port: say so, no traceback
                await self._runner.cleanup()
                self._runner = None
                raise TlsError(
                    f"cannot listen on {host}:{self.redirect_port} for the HTTP-to-HTTPS redirect "
                    f"(tls_redirect_port, SEMOT_TLS_REDIRECT_PORT): {exc.strerror or exc}. Is another program "
                    "using the port? Choose a free one, or 0 for no redirect."
                ) from None
            log.info("redirecting http://%s:%s to HTTPS", host, self.redirect_port)

    async def stop(self) -> None:
        try:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
        if self._runner is not None:
            await self._runner.cleanup()


_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^[0-9A-Fa-f:.]{2,45}$")


def redirect_app(https_port: int, public_url: str | None = None) -> web.Application:
    """Plain HTTP answering every request with 308 to the same path over HTTPS: at
    `public_url` when set, else at the requested host on the HTTPS port."""

    async def redirect(request: web.Request) -> web.StreamResponse:
        if public_url:
            base = public_url.rstrip("/")
        else:
            try:
                host = request.url.raw_host or ""
            except ValueError:  # a Host header yarl cannot parse
                host = ""
            if not _HOST.match(host):
                raise web.HTTPBadRequest(text="bad Host header")
            if ":" in host:
                host = f"[{host}]"  # an IPv6 address
            base = f"https://{host}" + ("" if https_port == 443 else f":{https_port}")
        raise web.HTTPPermanentRedirect(base + request.path_qs)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", redirect)
    return app


def self_signed(cert: Path, key: Path, hosts: list[str], *, days: int = 365) -> str:
    """Write a self-signed certificate for `hosts` (DNS names and IP addresses) and its
    private key (0600); returns the certificate's SHA-256 SPKI pin (base64), which a
    browser can be told to trust (Chromium's --ignore-certificate-errors-spki-list)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    if not hosts:
        raise ValueError("at least one host name or address is needed")
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Semot self-signed")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(private, hashes.SHA256())
    )
    key_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(key, key_pem, FILE_MODE)
    _write(cert, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    return spki_pin(certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def spki_pin(spki_der: bytes) -> str:
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha256(spki_der).digest()).decode()


def _write(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` atomically (a server reloading on SIGHUP never reads half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
