"""The config file over RPC (``config.*``: its text holds password and PIN hashes and the
province's credentials; an edit rewires the hall) is for this PC's own processes (ipc://: hwd-ui,
hwctl) and the CURVE certificates named in ``[daemon] config_clients``: a kiosk or window PC
holding a client certificate — a compromised township PC — takes tickets and calls, and can
neither read nor rewrite the hall (docs/security.md, "The config file over RPC")."""

from __future__ import annotations

import pytest

from hwd import errors
from hwd.client import RpcError
from methods_helpers import tcp_daemon

RENAME = [{"op": "set", "path": ["hall", "name"], "value": "被改了的大厅"}]
WHO = {"by": "intruder", "source": "tcp"}


def test_config_methods_over_the_network_only_for_named_certificates(hwd_daemon, tmp_path):
    d, client, _ = tcp_daemon(hwd_daemon, tmp_path, [], daemon_extra='config_clients = ["listed"]\n')
    before = d.config_path.read_text(encoding="utf-8")
    unlisted = client("unlisted")
    assert unlisted.call("hall.state")["windows"], "the hall's own methods stay open to it"
    attempts = {
        "config.get": {}, "config.history": {}, "config.show": {"version": 1},
        "config.check": {"text": before}, "config.preview": {"ops": RENAME},
        "config.edit": {"ops": RENAME, **WHO}, "config.apply": {"text": before.replace("[hall]", "[hall]\n"), **WHO},
        "config.rollback": WHO, "config.import_matters": {"catalogue": "[]", "apply": True, **WHO},
        "config.restart": {"at": "night"},
    }
    for method, params in attempts.items():
        with pytest.raises(RpcError) as exc:
            unlisted.call(method, params)
        assert exc.value.code == errors.NOT_AUTHORISED, (method, exc.value)
    assert d.config_path.read_text(encoding="utf-8") == before, "nothing written"
    assert "config.edit by unlisted over the network: refused" in d.log()
    assert d.proc.poll() is None

    listed = client("listed")
    got = listed.call("config.get")
    assert "pin_hash" not in str(got["config"])
    listed.call("config.edit", {"ops": RENAME, "base": got["digest"], "by": "engineer", "source": "tcp"})
    assert "被改了的大厅" in d.config_path.read_text(encoding="utf-8")
    assert [v["by"] for v in listed.call("config.history")["versions"]][0] == "engineer"
