"""The pure parts of the LDAP client (services/ldap_client.py): DN handling and the
settings' checks. The directory itself is tested for real in test_ldap.py."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from semot.config import Settings
from semot.services.ldap_client import norm_dn, ou_path

BASE = "ou=People,dc=example,dc=com"


def test_ou_path_is_top_down_below_the_base() -> None:
    assert ou_path(f"uid=a,ou=East,ou=Sales,{BASE}", BASE) == ("Sales", "East")
    assert ou_path(f"uid=a,{BASE}", BASE) == ()
    assert ou_path(f"ou=East,ou=Sales,{BASE}", BASE, own=True) == ("Sales", "East")
    assert ou_path(f"CN=Li Lei,OU=Beijing, OU=Staff,{BASE}", BASE) == ("Staff", "Beijing")  # AD: CN entries, spaces
    assert ou_path(f"uid=a,cn=Users,ou=Sales,{BASE}", BASE) == ("Sales",)  # containers that are not OUs are skipped
    assert ou_path("not a dn", BASE) == ()


def test_dns_compare_regardless_of_case_and_spaces() -> None:
    assert norm_dn("UID=Alice, OU=People,DC=Example,DC=com") == norm_dn("uid=alice,ou=people,dc=example,dc=com")
    assert norm_dn("uid=alice,dc=x") != norm_dn("uid=alicia,dc=x")


def test_settings_refuse_an_unusable_ldap_configuration() -> None:
    with pytest.raises(ValidationError, match="ldap_url"):
        Settings(ldap_enabled=True)
    with pytest.raises(ValidationError, match="username"):
        Settings(ldap_user_filter="(uid=alice)")  # no {username}: everyone would be alice
    with pytest.raises(ValidationError):
        Settings(ldap_url="http://dc1")
    ok = Settings(ldap_enabled=True, ldap_url="ldaps://dc1.corp:636", ldap_user_base=BASE,
                  ldap_group_roles={"cn=im-admins,dc=corp": "super_admin"})
    assert ok.ldap_enabled and ok.ldap_group_roles == {"cn=im-admins,dc=corp": "super_admin"}
