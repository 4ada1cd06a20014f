"""ComfyUI's ``nodes`` for custom-node packs: the node registry as ``NODE_CLASS_MAPPINGS``, the core
nodes as V1 classes (``nodes.KSampler().sample(...)``, ``nodes.VAEDecode().decode(vae, samples)``),
``common_ksampler`` and the interrupt helpers.

NodeFlow's own nodes appear as V1 wrapper classes (``nodeflow.comfy_compat.v1_wrappers``) that
run the NodeFlow node; packs' V1 classes appear as themselves. Rebuilt whenever the runtime binds
or its registry grows (after packs load).
"""

from __future__ import annotations

from typing import Any

from nodeflow.comfy_compat import binding, missing
from nodeflow.comfy_compat.v1_wrappers import is_v1_class, v1_class
from nodeflow.schema.types import MAX_RESOLUTION as MAX_RESOLUTION  # packs read nodes.MAX_RESOLUTION

NODE_CLASS_MAPPINGS: dict[str, type] = {}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}
_WRAPPERS: dict[tuple[Any, str], type] = {}  # (NodeFlow class, name) -> its V1 class, one per class


def _class_for(spec: Any) -> type:
    if is_v1_class(spec.make):
        return spec.make
    key = (spec.make, spec.name)
    if key not in _WRAPPERS:
        _WRAPPERS[key] = v1_class(spec)
    return _WRAPPERS[key]


def _refresh(bound: binding.Bound) -> None:
    """Every registered node under its name (outside a runtime: the built-in nodes)."""
    mappings, names = {}, {}
    for spec in binding.registry():
        mappings[spec.name] = _class_for(spec)
        names[spec.name] = spec.display_name
    NODE_CLASS_MAPPINGS.clear()
    NODE_CLASS_MAPPINGS.update(mappings)
    NODE_DISPLAY_NAME_MAPPINGS.clear()
    NODE_DISPLAY_NAME_MAPPINGS.update(names)


binding.on_bind(_refresh)


def common_ksampler(
    model: Any,
    seed: int,
    steps: int,
    cfg: float,
    sampler_name: str,
    scheduler: str,
    positive: list,
    negative: list,
    latent: dict,
    denoise: float = 1.0,
    disable_noise: bool = False,
    start_step: int | None = None,
    last_step: int | None = None,
    force_full_denoise: bool = False,
) -> tuple[dict]:
    """The KSampler as a function: seeded noise (zeros with ``disable_noise``), the latent's noise
    mask and batch_index, progress and previews of the running node; returns (a new LATENT,)."""
    import latent_preview

    from nodeflow.sampling.run import SampleRequest, ksample

    report = latent_preview.prepare_callback(model, steps)

    def callback(step: int, x: Any, denoised: Any, total: int) -> None:
        report(step, denoised, x, total)

    request = SampleRequest(model, positive, negative, latent, seed, cfg, sampler_name, add_noise=not disable_noise)
    out = ksample(
        request,
        scheduler,
        steps,
        denoise,
        start_step=start_step,
        end_step=last_step,
        force_full_denoise=force_full_denoise,
        callback=callback,
    )
    return (out,)


def before_node_execution() -> None:
    """Raise InterruptProcessingException when the running prompt was interrupted."""
    from comfy.model_management import throw_exception_if_processing_interrupted

    throw_exception_if_processing_interrupted()


def interrupt_processing(value: bool = True) -> None:
    from comfy.model_management import interrupt_current_processing

    interrupt_current_processing(value)


def __getattr__(name: str) -> Any:
    """Core node classes as module attributes: ``nodes.KSampler``, ``from nodes import VAEDecode``."""
    cls = NODE_CLASS_MAPPINGS.get(name)
    spec = getattr(cls, "nodeflow_spec", None)
    if spec is not None and spec.source == "builtin":
        return cls
    return missing("nodes")(name)
