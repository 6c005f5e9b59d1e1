"""The client configuration across restarts and nodes: the server's settings are the
defaults until a configuration is saved (then it wins, also after a restart), and two
nodes on the real PostgreSQL and Redis apply a change made on either before their
clients hear of it."""

from __future__ import annotations

from pathlib import Path

from tests.admin.test_client_config import P, put
from tests.integration.harness import Api, Clients, ServerProcess, direct_conv
from tests.support.cluster import two_nodes


async def test_settings_default_until_a_configuration_is_saved(tmp_path: Path, api: Api) -> None:
    """SEMOT_SELF_REGISTRATION / SEMOT_DIRECT_MESSAGE_POLICY are the defaults; a saved
    configuration wins over them, also after a restart."""
    srv = ServerProcess(
        tmp_path / "data", {"SEMOT_SELF_REGISTRATION": "false", "SEMOT_DIRECT_MESSAGE_POLICY": "friends"}
    )
    await srv.astart()
    try:
        pub = (await api.call(srv, "GET", P))[1]
        assert pub["self_registration"] is False and pub["direct_message_policy"] == "friends"
        assert (await api.register(srv, "nobody"))[0] == 403
        srv.create_admin("root2")
        token = (await api.login(srv, "root2"))[1]["access_token"]
        await put(api, srv, token, {"self_registration": True})
        assert (await api.register(srv, "somebody"))[0] == 201
        await srv.astop()
        await srv.astart()
        pub = (await api.call(srv, "GET", P))[1]
        assert pub["self_registration"] is True and pub["direct_message_policy"] == "friends"
        assert (await api.register(srv, "another"))[0] == 201
    finally:
        if srv.running:
            await srv.astop()


# --------------------------------------------------------------------------- two nodes


async def test_two_nodes_on_postgresql_see_a_change_at_once(tmp_path: Path, api: Api, clients: Clients) -> None:
    """Node B's clients get evt config for a change made on node A, and B enforces it
    at once (the bus invalidation), on the real PostgreSQL and Redis."""
    with two_nodes(tmp_path, "cfg", server=ServerProcess) as c:
        a, b = c.a, c.b
        a.create_admin("noderoot")
        token = (await api.login(a, "noderoot"))[1]["access_token"]
        alice = await api.account(a, "na")
        bob = await api.account(b, "nb")
        on_a = await clients.connect(a, alice)
        on_b = await clients.connect(b, bob)
        ack = await on_b.send_text(alice.user_id, "recall me")
        reply = await put(api, a, token, {"product_name": "两节点", "features": {"recall": False}})
        for ws in (on_a, on_b):
            evt = await ws.wait_for(lambda f: f.get("evt") == "config" and f.get("version") == reply["version"])
            assert evt["config"]["product_name"] == "两节点"
        got = await on_b.request("recall", conv=direct_conv(alice.user_id, bob.user_id), seq=ack["seq"])
        assert got["ok"] is False and got["error"]["details"]["feature"] == "recall", got
        assert (await api.call(b, "GET", P))[1]["product_name"] == "两节点"
        late = await clients.connect(b, bob)
        assert late.auth_data is not None and late.auth_data["config"]["client"]["version"] == reply["version"]
