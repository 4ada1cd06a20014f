"""Flow-matching shift nodes (ComfyUI's ModelSamplingSD3 / ModelSamplingAuraFlow / ModelSamplingFlux):
a MODEL clone whose family samples as a rectified-flow model with the chosen sigma table
(``FlowSchedule``), so every sampler and scheduler uses it."""

from __future__ import annotations

import dataclasses

from nodeflow.schema.node import Node
from nodeflow.schema.types import MAX_RESOLUTION, Float, Int, Model


def with_flow_schedule(model, schedule):
    """A clone of ``model`` sampling as a flow model on ``schedule`` (a FlowSchedule)."""
    from nodeflow.models.diffusion_model import DiffusionModel

    if not isinstance(model, DiffusionModel):
        raise ValueError(f"this MODEL ({type(model).__name__}) cannot take a flow-sampling patch")
    clone = model.clone()
    clone.family = dataclasses.replace(model.family, prediction="flow", sampling="flow", schedule=lambda: schedule)
    return clone


class ModelSamplingSD3(Node):
    """Rectified-flow sampling with shift (SD3: sigma = shift t / (1 + (shift - 1) t), timestep = 1000 sigma)."""

    category = "advanced/model"
    inputs = {"model": Model(), "shift": Float(default=3.0, min=0.0, max=100.0, step=0.01)}
    outputs = {"MODEL": Model()}

    def run(self, model, shift):
        from nodeflow.sampling.flow_schedule import FlowSchedule

        return with_flow_schedule(model, FlowSchedule.sd3(shift))


class ModelSamplingAuraFlow(Node):
    """Rectified-flow sampling with shift, the network given sigma itself (AuraFlow)."""

    category = "advanced/model"
    inputs = {"model": Model(), "shift": Float(default=1.73, min=0.0, max=100.0, step=0.01)}
    outputs = {"MODEL": Model()}

    def run(self, model, shift):
        from nodeflow.sampling.flow_schedule import FlowSchedule

        return with_flow_schedule(model, FlowSchedule.aura_flow(shift))


class ModelSamplingFlux(Node):
    """Flux's resolution-dependent shift: mu from base_shift (256 patches) to max_shift (4096 = 1024x1024)."""

    category = "advanced/model"
    inputs = {
        "model": Model(),
        "max_shift": Float(default=1.15, min=0.0, max=100.0, step=0.01),
        "base_shift": Float(default=0.5, min=0.0, max=100.0, step=0.01),
        "width": Int(default=1024, min=16, max=MAX_RESOLUTION, step=8),
        "height": Int(default=1024, min=16, max=MAX_RESOLUTION, step=8),
    }
    outputs = {"MODEL": Model()}

    def run(self, model, max_shift, base_shift, width, height):
        from nodeflow.sampling.flow_schedule import FlowSchedule, flux_resolution_shift

        return with_flow_schedule(model, FlowSchedule.flux(flux_resolution_shift(width, height, base_shift, max_shift)))
