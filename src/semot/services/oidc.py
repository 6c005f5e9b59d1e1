"""The OpenID Connect relying party: discovery, the authorization request with PKCE, the
code exchange and the ID token's checks (docs/sso.md, "OpenID Connect").

Only the authorization code flow with PKCE (S256) is used: the browser carries a code,
never a token, and the code is worthless without the verifier this server keeps in the
signed sign-in cookie (services/oidc_login.py). The ID token is checked as OpenID
Connect Core 3.1.3.7 says: signature by a key of the provider's JWKS, `iss`, `aud`
(and `azp` with several audiences), `exp`/`iat`, and the `nonce` this sign-in sent.
Claims missing from the ID token (many providers put only `sub` there) are read from
the userinfo endpoint, whose `sub` must be the same. Discovery and keys are cached; an
unknown `kid` fetches the keys once more (the provider rotated them).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from semot.errors import SemotError, Unavailable

log = logging.getLogger(__name__)

DISCOVERY_TTL_S = 3600.0
MAX_ANSWER = 1024 * 1024
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
LEEWAY_S = 60


class OidcError(SemotError):
    """The provider's answer cannot be used (an error, a bad token): the sign-in fails."""

    code = "oidc_failed"
    http_status = 502


@dataclass(frozen=True, slots=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str
    timeout_s: float


@dataclass(frozen=True, slots=True)
class Pending:
    """What one sign-in must remember between leaving for the provider and coming back."""

    state: str
    nonce: str
    verifier: str


class OidcClient:
    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self._meta: dict[str, Any] | None = None
        self._meta_until = 0.0
        self._keys: KeySet | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.timeout_s))
        return self._session

    async def _json(self, method: str, url: str, **kw: Any) -> dict[str, Any]:
        try:
            async with self._http().request(method, url, allow_redirects=False, **kw) as resp:
                raw = await resp.content.read(MAX_ANSWER + 1)
                if len(raw) > MAX_ANSWER:
                    raise OidcError(f"the provider's answer from {url} is too large")
                try:
                    data = orjson.loads(raw) if raw else None
                except ValueError:
                    data = None
                if resp.status >= 400:
                    what = data.get("error_description") or data.get("error") if isinstance(data, dict) else None
                    raise OidcError(f"the provider answered {resp.status} at {url}: {what or 'no detail'}")
                if not isinstance(data, dict):
                    raise OidcError(f"the provider's answer from {url} is not a JSON object")
                return data
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unavailable(f"the sign-in provider cannot be reached: {exc.__class__.__name__}") from None

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached an hour)."""
        if self._meta is not None and time.monotonic() < self._meta_until:
            return self._meta
        issuer = self.config.issuer
        meta = await self._json("GET", issuer.rstrip("/") + "/.well-known/openid-configuration")
        if meta.get("issuer") != issuer:  # OIDC Discovery 4.3: it must be exactly the configured one
            raise OidcError(f"the discovery document names issuer {meta.get('issuer')!r}, not {issuer!r}")
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(meta.get(field), str):
                raise OidcError(f"the discovery document has no {field}")
        self._meta, self._meta_until = meta, time.monotonic() + DISCOVERY_TTL_S
        return meta

    async def _key_set(self, *, fresh: bool = False) -> KeySet:
        if self._keys is None or fresh:
            jwks = await self._json("GET", (await self.metadata())["jwks_uri"])
            try:
                self._keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError) as exc:
                raise OidcError(f"the provider's keys cannot be read: {exc}") from None
        return self._keys

    @staticmethod
    def new_pending() -> Pending:
        return Pending(state=generate_token(32), nonce=generate_token(32), verifier=generate_token(64))

    def _scopes(self) -> str:
        scopes = self.config.scopes.split()
        return " ".join(scopes if "openid" in scopes else ["openid", *scopes])

    async def authorize_url(self, pending: Pending, redirect_uri: str) -> str:
        meta = await self.metadata()
        query = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": redirect_uri,
            "scope": self._scopes(),
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": create_s256_code_challenge(pending.verifier),
            "code_challenge_method": "S256",
        }
        endpoint: str = meta["authorization_endpoint"]
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(query)

    async def finish(self, code: str, pending: Pending, redirect_uri: str) -> dict[str, Any]:
        """Trade the code for tokens and return the person's claims (ID token, then
        userinfo for what it lacks). Raises OidcError on anything that does not check out."""
        meta = await self.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": pending.verifier}
        auth: aiohttp.BasicAuth | None = None
        secret = self.config.client_secret
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if secret and "client_secret_basic" in methods:
            auth = aiohttp.BasicAuth(self.config.client_id, secret)
        else:
            form["client_id"] = self.config.client_id
            if secret:
                form["client_secret"] = secret
        tokens = await self._json("POST", meta["token_endpoint"], data=form, auth=auth,
                                  headers={"Accept": "application/json"})
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the provider sent no ID token")
        claims = await self._check_id_token(id_token, pending.nonce)
        access = tokens.get("access_token")
        if isinstance(access, str) and isinstance(meta.get("userinfo_endpoint"), str):
            info = await self._json("GET", meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {access}"})
            if info.get("sub") != claims["sub"]:
                raise OidcError("the userinfo answer is about someone else")
            claims = {**info, **claims}  # the signed ID token's claims win
        return claims

    async def _check_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            try:
                token = jwt.decode(id_token, await self._key_set(), algorithms=ALGORITHMS)
            except (JoseError, ValueError):  # perhaps signed with a key rotated in since: fetch them once more
                token = jwt.decode(id_token, await self._key_set(fresh=True), algorithms=ALGORITHMS)
            claims: dict[str, Any] = dict(token.claims)
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_S,
                iss={"essential": True, "value": self.config.issuer},
                sub={"essential": True},
                aud={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(claims)
        except (JoseError, ValueError) as exc:
            raise OidcError(f"the ID token does not check out: {exc}") from None
        aud = claims["aud"]
        audiences = [aud] if isinstance(aud, str) else list(aud) if isinstance(aud, list) else []
        if self.config.client_id not in audiences:
            raise OidcError("the ID token is not meant for this server (aud)")
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise OidcError("the ID token names another authorized party (azp)")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise OidcError("the ID token has no subject")
        return claims
