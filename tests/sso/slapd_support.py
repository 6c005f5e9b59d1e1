"""A real OpenLDAP directory for the LDAP tests: Debian's `slapd` on a free loopback port.

Each directory is a `slapd -f slapd.conf` of its own: a generated config (mdb backend,
the core/cosine/inetorgperson schemas) and a database in a temporary folder, run in the
foreground (`-d 0`) so the test owns the process and kills it at the end. Passwords are
readable by nobody (`by anonymous auth`), as in a real deployment: Semot can only learn
whether a password is right by binding with it. Seeded over LDAP with ldap3.

    with Slapd(tmp) as d:
        d.add_ou("ou=Sales", "Sales")
        d.add_user("alice", "secret-pw", ou="ou=Sales")

Skipped locally when slapd is missing; a failure under CI (CI=true).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from tests.support.server import free_port

SLAPD = "/usr/sbin/slapd"
SUFFIX = "dc=example,dc=com"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "root-secret"
READER_DN = f"cn=reader,{SUFFIX}"  # the service account Semot searches with
READER_PW = "reader-secret"
SMALL_READER_DN = f"cn=small-reader,{SUFFIX}"  # a service account that may see 3 entries per search
PEOPLE = f"ou=People,{SUFFIX}"
GROUPS = f"ou=Groups,{SUFFIX}"

CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args

database mdb
maxsize 67108864
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_pw}
directory {dir}/db
limits dn.exact="{reader_dn}" size=unlimited
limits dn.exact="{small_dn}" size=3
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by * read
"""


def require_slapd() -> None:
    if not Path(SLAPD).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("slapd is missing in CI (.ci/run installs slapd ldap-utils)")
        pytest.skip("slapd is not installed (apt-get install slapd ldap-utils)")


class Slapd:
    """One running directory; `conn()` an ldap3 connection bound as its root."""

    def __init__(self, folder: Path) -> None:
        require_slapd()
        self.dir = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def settings_env(self, **extra: str) -> dict[str, str]:
        """The `SEMOT_LDAP_*` environment of a server using this directory."""
        env = {
            "SEMOT_LDAP_ENABLED": "true",
            "SEMOT_LDAP_URL": self.url,
            "SEMOT_LDAP_BIND_DN": READER_DN,
            "SEMOT_LDAP_BIND_PASSWORD": READER_PW,
            "SEMOT_LDAP_USER_BASE": PEOPLE,
            "SEMOT_LDAP_USER_FILTER": "(&(objectClass=inetOrgPerson)(uid={username}))",
        }
        return {**env, **extra}

    def start(self) -> Slapd:
        (self.dir / "db").mkdir(parents=True, exist_ok=True)
        conf = self.dir / "slapd.conf"
        conf.write_text(CONF.format(dir=self.dir, suffix=SUFFIX, root_dn=ROOT_DN, root_pw=ROOT_PW, reader_dn=READER_DN,
                                    small_dn=SMALL_READER_DN))
        log = open(self.dir / "slapd.log", "ab")
        self.proc = subprocess.Popen(
            [SLAPD, "-f", str(conf), "-h", f"ldap://127.0.0.1:{self.port}/", "-d", "0"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                self.conn().unbind()
                break
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"slapd did not start: {(self.dir / 'slapd.log').read_text()[-2000:]}") from None
                time.sleep(0.1)
        self._seed()
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self) -> Slapd:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def conn(self) -> Any:
        import ldap3

        server = ldap3.Server(self.url, connect_timeout=3)
        return ldap3.Connection(server, ROOT_DN, ROOT_PW, auto_bind=True, receive_timeout=10)

    def _add(self, dn: str, classes: list[str], attrs: dict[str, Any]) -> None:
        c = self.conn()
        try:
            if not c.add(dn, classes, attrs):
                raise RuntimeError(f"ldap add {dn}: {c.result}")
        finally:
            c.unbind()

    def _seed(self) -> None:
        self._add(SUFFIX, ["dcObject", "organization"], {"dc": "example", "o": "Example Co"})
        self._add(READER_DN, ["simpleSecurityObject", "organizationalRole"], {"cn": "reader", "userPassword": READER_PW})
        self._add(SMALL_READER_DN, ["simpleSecurityObject", "organizationalRole"],
                  {"cn": "small-reader", "userPassword": READER_PW})
        self._add(PEOPLE, ["organizationalUnit"], {"ou": "People"})
        self._add(GROUPS, ["organizationalUnit"], {"ou": "Groups"})

    def add_ou(self, rdn_path: str, name: str) -> str:
        """`rdn_path` relative to ou=People, e.g. "ou=East,ou=Sales"."""
        dn = f"{rdn_path},{PEOPLE}"
        self._add(dn, ["organizationalUnit"], {"ou": name})
        return dn

    def add_user(
        self, uid: str, password: str, *, ou: str | None = None, cn: str | None = None,
        mail: str | None = None, phone: str | None = None,
    ) -> str:
        dn = f"uid={uid},{ou + ',' if ou else ''}{PEOPLE}"
        attrs: dict[str, Any] = {"uid": uid, "cn": cn or uid, "sn": uid, "userPassword": password}
        if mail:
            attrs["mail"] = mail
        if phone:
            attrs["telephoneNumber"] = phone
        self._add(dn, ["inetOrgPerson"], attrs)
        return dn

    def add_group(self, cn: str, members: list[str]) -> str:
        dn = f"cn={cn},{GROUPS}"
        self._add(dn, ["groupOfNames"], {"cn": cn, "member": members})
        return dn

    def delete(self, dn: str) -> None:
        c = self.conn()
        try:
            if not c.delete(dn):
                raise RuntimeError(f"ldap delete {dn}: {c.result}")
        finally:
            c.unbind()

    def set_password(self, dn: str, password: str) -> None:
        import ldap3

        c = self.conn()
        try:
            if not c.modify(dn, {"userPassword": [(ldap3.MODIFY_REPLACE, [password])]}):
                raise RuntimeError(f"ldap modify {dn}: {c.result}")
        finally:
            c.unbind()

    def move(self, dn: str, new_superior_rdns: str) -> str:
        """Move an entry under another OU ("ou=Research" relative to ou=People); its new DN."""
        c = self.conn()
        rdn = dn.split(",", 1)[0]
        try:
            if not c.modify_dn(dn, rdn, new_superior=f"{new_superior_rdns},{PEOPLE}"):
                raise RuntimeError(f"ldap modify_dn {dn}: {c.result}")
        finally:
            c.unbind()
        return f"{rdn},{new_superior_rdns},{PEOPLE}"

    def set_members(self, group_dn: str, members: list[str]) -> None:
        import ldap3

        c = self.conn()
        try:
            if not c.modify(group_dn, {"member": [(ldap3.MODIFY_REPLACE, members)]}):
                raise RuntimeError(f"ldap modify {group_dn}: {c.result}")
        finally:
            c.unbind()
