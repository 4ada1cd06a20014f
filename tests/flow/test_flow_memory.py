"""Device memory for the big text encoders and transformers (issue #20): Flux prompts run through the
real engine and tiny models, on a ModelManager whose compute device is ``cpu:0``.

No GPU here: ``cpu:0`` is a device apart from the offload device (``cpu``), so the manager runs its
whole placement logic (budget, LRU offload, the text-encoder rule, --lowvram block streaming) and
the tensors really move with ``.to()``, but both ends are host memory. What is tested for real: which
modules the manager places and offloads, in what order, and the bytes it counts on the device at every
module call (module-level forward hooks), against the budget; that the numbers do not change. What is
not: CUDA allocator behaviour (fragmentation, activations, caches), which only a GPU run shows."""

import threading

import numpy as np
import pytest
import torch

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.models.block_stream import split_units
from nodeflow.models.manager import ModelManager, module_bytes
from tests.helpers.flow_prompts import flux_prompt


class Recording(ModelManager):
    """The real manager, recording what it places and offloads and the most bytes it held on the device."""

    def __init__(self, **kwargs) -> None:
        super().__init__(device="cpu:0", **kwargs)
        self.events: list[tuple[str, str]] = []
        self.peak = 0

    def _place(self, module):
        super()._place(module)
        self.events.append(("place", type(module).__name__))
        self.note()

    def _unplace(self, module):
        self.events.append(("offload", type(module).__name__))
        super()._unplace(module)

    def note(self) -> None:
        self.peak = max(self.peak, self.device_bytes())


@pytest.fixture
def watch():
    """Note the manager's device bytes before and after every module call."""
    managers = []

    def pre(module, args):
        for m in managers:
            m.note()

    def post(module, args, output):
        for m in managers:
            m.note()

    handles = [
        torch.nn.modules.module.register_module_forward_pre_hook(pre),
        torch.nn.modules.module.register_module_forward_hook(post),
    ]
    yield managers.append
    for h in handles:
        h.remove()


def run(registry, env, manager, text="a red star"):
    prompt = flux_prompt(seed=1)
    prompt["3"]["inputs"]["text"] = text
    prompt["8"] = {"class_type": "PreviewImage", "inputs": {"images": ["7", 0]}}
    engine = getattr(manager, "engine", None) or Engine(registry, env, models=manager)
    manager.engine = engine
    outputs = {}

    def emit(event, data):
        if event == "executed" and data.get("node") == "8":
            outputs["images"] = data["output"]["images"]

    result = engine.execute(Job(f"p-{text}", prompt, ["8"]), emit, threading.Event())
    assert result.status == "success", result.error
    image = outputs["images"][0]
    from PIL import Image

    return np.asarray(Image.open(env.temp_dir / image.get("subfolder", "") / image["filename"]))


def sizes(registry, env):
    """Bytes of the tiny Flux transformer, CLIP-L, T5 and VAE as the manager counts them."""
    cpu = ModelManager(cpu=True)
    run(registry, env, cpu)
    found = {}
    for value in [v for key in cpu.cached_keys() for v in _flatten(cpu.load(key, lambda: None))]:
        for module in _modules(value):
            found[type(module).__name__] = module_bytes(module)
    return found


def _flatten(value):
    return value if isinstance(value, (tuple, list)) else [value]


def _modules(value):
    unet = getattr(value, "unet", None)
    if unet is not None:
        yield unet.module
    for enc in getattr(value, "encoders", []):
        yield enc.model.module
    module = getattr(value, "module", None)
    if isinstance(module, torch.nn.Module):
        yield module


def test_t5_leaves_the_device_after_encoding_only_when_vram_is_short(registry, flow_env, watch):
    size = sizes(registry, flow_env)
    t5, flux = size["T5EncoderModel"], size["FluxTransformer2DModel"]
    baseline = run(registry, flow_env, ModelManager(cpu=True))

    roomy = Recording(vram_budget_gb=2 * sum(size.values()) / 2**30)  # everything fits: nothing moves off
    watch(roomy)
    assert np.array_equal(run(registry, flow_env, roomy), baseline)  # placement never changes the numbers
    assert ("place", "T5EncoderModel") in roomy.events
    assert not [e for e in roomy.events if e[0] == "offload"]

    short = Recording(vram_budget_gb=(t5 + flux // 2) / 2**30)  # the T5 fits, not with anything big beside it
    watch(short)
    for text in ("a red star", "a blue moon"):  # a new text: the encoders run again
        short.events.clear()
        image = run(registry, flow_env, short, text)
        at = short.events.index(("place", "T5EncoderModel"))
        # offloaded as soon as the encoding is done, before the transformer is placed
        assert short.events[at + 1] == ("offload", "T5EncoderModel"), short.events
        assert short.events.index(("place", "FluxTransformer2DModel")) > at + 1
    assert short.peak <= short.vram_budget, (short.peak, short.vram_budget)
    assert roomy.peak <= roomy.vram_budget
    assert image.shape == baseline.shape


def test_lowvram_streams_a_transformer_over_budget_and_keeps_text_encoders_off_the_device(registry, flow_env, watch):
    size = sizes(registry, flow_env)
    flux = size["FluxTransformer2DModel"]
    baseline = run(registry, flow_env, ModelManager(cpu=True))
    budget = flux // 3  # a third of the transformer: it has to visit the device block by block
    manager = Recording(vram_budget_gb=budget / 2**30, lowvram=True)
    watch(manager)
    image = run(registry, flow_env, manager)
    placed = {name for kind, name in manager.events if kind == "place"}
    assert "FluxTransformer2DModel" in placed
    assert not placed & {"T5EncoderModel", "CLIPTextModel"}  # --lowvram: text encoders run on the CPU
    assert manager.peak <= budget, (manager.peak, budget)
    assert manager.peak > 0
    assert manager.device_bytes() == 0  # --lowvram: everything is offloaded after use
    assert np.array_equal(image, baseline)


def test_split_units_cover_every_weight_once():
    net = torch.nn.Sequential(
        torch.nn.Linear(64, 64),
        torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 64)),
        torch.nn.LayerNorm(64),
    )
    units, ancestors = split_units(net, limit=64 * 65 * 4 + 10)  # one Linear fits, the inner pair does not
    unit_params = {id(p) for u in units for p in u.parameters()}
    own = {id(p) for a in ancestors for p in a.parameters(recurse=False)}
    assert unit_params | own == {id(p) for p in net.parameters()}
    assert len(unit_params) + len(own) == len(list(net.parameters()))
    assert len(units) == 4 and net[1] in ancestors
