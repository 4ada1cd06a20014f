"""Engine benchmark (prints JSON): executor overhead per node on a 500-node chain of cheap
built-in nodes, cached re-run time, and enqueue-to-done latency for 200 small prompts through
a real server. Figures are ratios against baselines measured in the same run."""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.folders import Folders
from nodeflow.schema.registry import builtin_registry

CHAIN = 500


def chain_prompt(tag: str) -> dict:
    prompt = {"0": {"class_type": "PrimitiveString", "inputs": {"value": tag}}}
    for i in range(1, CHAIN):
        prompt[str(i)] = {
            "class_type": "StringConcatenate",
            "inputs": {"string_a": [str(i - 1), 0], "string_b": "x", "delimiter": ""},
        }
    prompt["out"] = {"class_type": "PreviewAny", "inputs": {"source": [str(CHAIN - 1), 0]}}
    return prompt


def run(engine: Engine, prompt: dict) -> float:
    start = time.perf_counter()
    result = engine.execute(Job(uuid.uuid4().hex, prompt, ["out"]), lambda t, d: None, threading.Event())
    assert result.status == "success", result.error
    return time.perf_counter() - start


def bare_calls(registry) -> float:
    """The floor: the same node run() calls made directly, no engine."""
    concat = registry.get("StringConcatenate")
    prim = registry.get("PrimitiveString")
    start = time.perf_counter()
    value = prim.call(prim.make(), {"value": "bare"})
    for _ in range(1, CHAIN):
        value = concat.call(concat.make(), {"string_a": value, "string_b": "x", "delimiter": ""})
    return time.perf_counter() - start


def engine_figures(env: Folders) -> dict:
    registry = builtin_registry()
    engine = Engine(registry, env)
    floors = [bare_calls(registry) for _ in range(5)]
    cold = [run(engine, chain_prompt(f"t{i}")) for i in range(5)]
    cached = [run(engine, chain_prompt("t0")) for _ in range(5)]
    floor = statistics.median(floors)
    return {
        "chain_nodes": CHAIN + 1,
        "bare_calls_ms": round(floor * 1000, 3),
        "engine_run_ms": round(statistics.median(cold) * 1000, 3),
        "overhead_per_node_us": round((statistics.median(cold) - floor) / (CHAIN + 1) * 1e6, 2),
        "engine_vs_bare_ratio": round(statistics.median(cold) / floor, 2),
        "cached_rerun_ms": round(statistics.median(cached) * 1000, 3),
        "cached_vs_cold_ratio": round(statistics.median(cached) / statistics.median(cold), 4),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def latency_figures(base: Path, count: int = 200) -> dict:
    """POST /prompt -> execution_success over a websocket, on a real server process."""
    import aiohttp

    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).resolve().parent.parent / "main.py"),
        "--port",
        str(port),
        "--base-directory",
        str(base),
        "--disable-custom-nodes",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                try:
                    async with session.get(f"{url}/prompt") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            client_id = uuid.uuid4().hex
            async with session.ws_connect(f"{url}/ws?clientId={client_id}") as ws:
                sent: dict[str, float] = {}
                done: dict[str, float] = {}
                for i in range(count):
                    body = {
                        "client_id": client_id,
                        "prompt": {
                            "1": {"class_type": "PrimitiveString", "inputs": {"value": f"p{i}"}},
                            "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
                        },
                    }
                    start = time.perf_counter()
                    async with session.post(f"{url}/prompt", json=body) as r:
                        pid = (await r.json())["prompt_id"]
                    sent[pid] = start
                    while len(done) < len(sent):  # one in flight: latency, not throughput
                        msg = await ws.receive(timeout=30)
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            data = json.loads(msg.data)
                            if data["type"] == "execution_success":
                                done[data["data"]["prompt_id"]] = time.perf_counter()
        lat = sorted((done[p] - sent[p]) * 1000 for p in sent)
        return {
            "prompts": count,
            "latency_ms_p50": round(lat[len(lat) // 2], 2),
            "latency_ms_p99": round(lat[int(len(lat) * 0.99) - 1], 2),
            "latency_ms_max": round(lat[-1], 2),
        }
    finally:
        proc.kill()
        await proc.wait()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = Folders(tmp)
        env.ensure()
        figures = {"engine": engine_figures(env)}
        try:
            figures["enqueue_to_done"] = asyncio.run(latency_figures(Path(tmp)))
        except Exception as exc:  # the server part is reported, not fatal
            figures["enqueue_to_done"] = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
