"""Soak benchmark (prints JSON): 1,000 prompts from 20 websocket clients against a real server
process: prompts per second, websocket event latency (POST -> execution_success, p50/p99), and
server memory over the run. Prompts lost must be 0."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from tests.helpers.server_process import free_port, rss_kb, start
from tests.helpers.toy_prompts import add_prompt

CLIENTS, PER_CLIENT = 20, 50


async def client(url: str, n: int, latencies: list[float], ids: set) -> None:
    cid = f"soak{n}"
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{url}/ws?clientId={cid}") as ws:
        for i in range(PER_CLIENT):
            start_time = time.perf_counter()
            async with session.post(f"{url}/prompt", json={"prompt": add_prompt(n, i), "client_id": cid}) as r:
                pid = (await r.json())["prompt_id"]
            ids.add(pid)
            while True:
                msg = await ws.receive(timeout=60)
                if msg.type == aiohttp.WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    if data["type"] == "execution_success" and data["data"]["prompt_id"] == pid:
                        latencies.append((time.perf_counter() - start_time) * 1000)
                        break


async def soak(port: int, pid: int) -> dict:
    url = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    ids: set = set()
    memory = [rss_kb(pid)]

    async def sample() -> None:
        while True:
            await asyncio.sleep(0.5)
            memory.append(rss_kb(pid))

    sampler = asyncio.create_task(sample())
    start_time = time.perf_counter()
    await asyncio.gather(*(client(url, n, latencies, ids) for n in range(CLIENTS)))
    elapsed = time.perf_counter() - start_time
    sampler.cancel()
    async with aiohttp.ClientSession() as session, session.get(f"{url}/history?max_items=5000") as r:
        history = await r.json()
    lat = sorted(latencies)
    return {
        "prompts": CLIENTS * PER_CLIENT,
        "clients": CLIENTS,
        "seconds": round(elapsed, 2),
        "prompts_per_second": round(CLIENTS * PER_CLIENT / elapsed, 1),
        "latency_ms_p50": round(lat[len(lat) // 2], 1),
        "latency_ms_p99": round(lat[int(len(lat) * 0.99)], 1),
        "rss_mb_start": round(memory[0] / 1024, 1),
        "rss_mb_peak": round(max(memory) / 1024, 1),
        "rss_mb_end": round(memory[-1] / 1024, 1),
        "prompts_lost": len(ids - set(history)),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start(Path(tmp), port)
        try:
            print(json.dumps(asyncio.run(soak(port, proc.pid)), indent=2))
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
