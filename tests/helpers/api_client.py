"""A client of an in-process server (aiohttp's test client on a free port) with prompt and websocket
helpers; the ``api`` fixtures of tests/server and tests/sd build it."""

import asyncio
import json


class Api:
    """A client of a real server on a free port, with websocket helpers."""

    def __init__(self, client, env):
        self.client, self.env = client, env

    async def post(self, path, body=None, **kw):
        return await self.client.post(path, json=body, **kw) if body is not None else await self.client.post(path, **kw)

    async def queue(self, prompt, **extra):
        r = await self.post("/prompt", {"prompt": prompt, **extra})
        return r.status, await r.json()

    async def ws(self, client_id="c1"):
        return await self.client.ws_connect(f"/ws?clientId={client_id}")

    async def wait_history(self, prompt_id, timeout=20):
        for _ in range(int(timeout / 0.05)):
            r = await self.client.get(f"/history/{prompt_id}")
            data = await r.json()
            if prompt_id in data:
                return data[prompt_id]
            await asyncio.sleep(0.05)
        raise AssertionError(f"prompt {prompt_id} never finished")


async def receive_until(ws, kind, timeout=20, prompt_id=None):
    """Messages up to and including the first of type ``kind`` (for ``prompt_id`` if given)."""
    seen = []
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type.name == "BINARY":
            seen.append(("binary", msg.data))
            continue
        if msg.type.name != "TEXT":
            raise AssertionError(f"socket closed while waiting for {kind}: {msg}")
        data = json.loads(msg.data)
        seen.append((data["type"], data["data"]))
        if data["type"] == kind and (prompt_id is None or data["data"].get("prompt_id") == prompt_id):
            return seen
