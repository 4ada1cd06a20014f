"""1,000 prompts from 20 websocket clients that disconnect and reconnect: every prompt ends in
the history, no client receives another client's events, and the server's memory stays flat."""

import asyncio
import json
import signal

import aiohttp
import pytest

from tests.helpers.server_process import free_port, rss_kb, start
from tests.helpers.toy_prompts import add_prompt

pytestmark = pytest.mark.slow  # 1,000 prompts from 20 websocket clients

CLIENTS, PER_CLIENT = 20, 50


async def client_run(url, client, results, ids):
    cid = f"client{client}"
    seen = results.setdefault(cid, [])
    async with aiohttp.ClientSession() as session:
        for half in range(2):  # connect, send half, disconnect, reconnect for the rest
            async with session.ws_connect(f"{url}/ws?clientId={cid}") as ws:
                for i in range(half * PER_CLIENT // 2, (half + 1) * PER_CLIENT // 2):
                    async with session.post(
                        f"{url}/prompt", json={"prompt": add_prompt(client, i), "client_id": cid}
                    ) as r:
                        ids.setdefault(cid, []).append((await r.json())["prompt_id"])
                    while True:  # read until nothing arrives for a moment
                        try:
                            msg = await ws.receive(timeout=0.01)
                        except TimeoutError:
                            break
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            seen.append(json.loads(msg.data))


async def run_load(port, pid):
    url = f"http://127.0.0.1:{port}"
    results, ids = {}, {}
    memory = {}

    async def sample():
        async with aiohttp.ClientSession() as session:
            while True:
                async with session.get(f"{url}/history?max_items=1000") as r:
                    done = len(await r.json())
                if done >= 100 and "after_100" not in memory:
                    memory["after_100"] = rss_kb(pid)
                if done >= CLIENTS * PER_CLIENT:
                    memory["after_1000"] = rss_kb(pid)
                    return done
                await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(client_run(url, c, results, ids) for c in range(CLIENTS)))
    done = await asyncio.wait_for(sampler, timeout=240)
    return results, ids, memory, done


def test_thousand_prompts_twenty_clients(tmp_path):
    port = free_port()
    proc = start(tmp_path, port)
    try:
        results, ids, memory, done = asyncio.run(run_load(port, proc.pid))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert done == CLIENTS * PER_CLIENT
    for cid, messages in results.items():
        own = set(ids[cid])
        foreign = [m for m in messages if m["type"] != "status" and m["data"].get("prompt_id") not in own]
        assert foreign == [], (cid, foreign[:3])
        labels = {t for m in messages if m["type"] == "executed" for t in m["data"]["output"]["text"]}
        assert all(label.startswith(f"c{cid[6:]}-") for label in labels)
    growth_mb = (memory["after_1000"] - memory["after_100"]) / 1024
    print(f"rss after 100 prompts {memory['after_100'] / 1024:.1f} MB, after 1000 {memory['after_1000'] / 1024:.1f} MB")
    assert growth_mb < 40, growth_mb
