"""A real server with plugin packs: status endpoint, extension scripts served, a broken pack harmless."""

import json
import urllib.request

from tests.helpers.server_process import free_port, start

from .v1_pack_source import SOURCE


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


def test_server_lists_packs_and_serves_their_scripts(tmp_path):
    packs = tmp_path / "custom_nodes"
    (packs / "v1pack" / "js").mkdir(parents=True)
    (packs / "v1pack" / "__init__.py").write_text(SOURCE)
    (packs / "v1pack" / "js" / "ext.js").write_text("// v1 extension")
    (packs / "broken.py").write_text("raise ImportError('needs a library that is not installed')")
    port = free_port()
    proc = start(tmp_path, port, custom_nodes=True)
    try:
        statuses = {s["name"]: s for s in json.loads(get(port, "/nodeflow/plugins")[2])}
        assert statuses["v1pack"]["ok"] and "V1Invert" in statuses["v1pack"]["nodes"]
        assert not statuses["broken"]["ok"] and "not installed" in statuses["broken"]["error"]
        assert statuses["example_pack"]["ok"]
        scripts = json.loads(get(port, "/extensions")[2])
        assert "/extensions/v1pack/ext.js" in scripts and "/extensions/example_pack/vignette.js" in scripts
        status, ctype, body = get(port, "/extensions/v1pack/ext.js")
        assert status == 200 and body == b"// v1 extension" and "javascript" in ctype
        info = json.loads(get(port, "/object_info/V1Invert")[2])
        assert info["V1Invert"]["display_name"] == "Invert (V1)"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
