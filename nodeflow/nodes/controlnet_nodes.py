"""ControlNet and T2I-Adapter nodes with ComfyUI's names, inputs and semantics: loaders (models/
controlnet, also models/t2i_adapter) and the apply nodes that attach a control to a conditioning
(``"control"`` in its options, chained to the control already there)."""

from __future__ import annotations

from nodeflow.schema.node import Node
from nodeflow.schema.types import Combo, Conditioning, ControlNet, Float, Image, Model, Output, Vae

from .model_files import cached, file_identity, manager, model_fingerprint


def load_control(ctx, name: str, model=None):
    from nodeflow.models.control_files import load_control_file

    path = ctx.env.model_path("controlnet", name)
    if model is None:
        return cached(ctx, ("controlnet", *file_identity(path)), lambda: load_control_file(path, manager(ctx)))
    # a diff ControlNet depends on the base model's weights too
    key = ("controlnet_diff", *file_identity(path), model.source, id(model.unet.module))
    return cached(ctx, key, lambda: load_control_file(path, manager(ctx), model))


class ControlNetLoader(Node):
    """Load a ControlNet (SD1.x/SD2.x original layout, SDXL diffusers layout; .safetensors or a safe
    .pth) or a T2I-Adapter from models/controlnet (or models/t2i_adapter)."""

    display_name = "Load ControlNet Model"
    category = "loaders"
    inputs = {"control_net_name": Combo(files="controlnet")}
    outputs = {"CONTROL_NET": ControlNet()}

    @classmethod
    def fingerprint(cls, env, control_net_name):
        return model_fingerprint(env, "controlnet", control_net_name)

    def run(self, control_net_name):
        return load_control(self.ctx, control_net_name)


class DiffControlNetLoader(Node):
    """Load a ControlNet; a diff ControlNet (weights stored as differences) is completed with the
    connected model's UNet weights."""

    display_name = "Load ControlNet Model (diff)"
    category = "loaders"
    inputs = {"model": Model(), "control_net_name": Combo(files="controlnet")}
    outputs = {"CONTROL_NET": ControlNet()}

    @classmethod
    def fingerprint(cls, env, control_net_name, **_):
        return model_fingerprint(env, "controlnet", control_net_name)

    def run(self, model, control_net_name):
        return load_control(self.ctx, control_net_name, model)


def _hint(image):
    if image.dim() != 4:
        raise ValueError(f"image must be an IMAGE [batch, height, width, channels], got shape {list(image.shape)}")
    return image.movedim(-1, 1)


class ControlNetApply(Node):
    """Old Apply ControlNet: guides the whole run at ``strength``; the negative prompt is guided
    by the same control (ComfyUI's control_apply_to_uncond)."""

    display_name = "Apply ControlNet (OLD)"
    category = "conditioning/controlnet"
    deprecated = True
    inputs = {
        "conditioning": Conditioning(),
        "control_net": ControlNet(),
        "image": Image(),
        "strength": Float(default=1.0, min=0.0, max=10.0, step=0.01),
    }
    outputs = {"CONDITIONING": Conditioning()}

    def run(self, conditioning, control_net, image, strength):
        if strength == 0:
            return conditioning
        hint = _hint(image)
        out = []
        for cond, options in conditioning:
            control = control_net.copy().set_cond_hint(hint, strength)
            if options.get("control") is not None:
                control.set_previous_controlnet(options["control"])
            out.append([cond, {**options, "control": control, "control_apply_to_uncond": True}])
        return out


class ControlNetApplyAdvanced(Node):
    """Guide sampling with a ControlNet or T2I-Adapter and a hint image (edges, depth, pose...) at
    ``strength``, between start_percent and end_percent of the run. Controls already on the
    conditioning stay: each adds its own residuals."""

    display_name = "Apply ControlNet"
    category = "conditioning/controlnet"
    inputs = {
        "positive": Conditioning(),
        "negative": Conditioning(),
        "control_net": ControlNet(),
        "image": Image(),
        "strength": Float(default=1.0, min=0.0, max=10.0, step=0.01),
        "start_percent": Float(default=0.0, min=0.0, max=1.0, step=0.001),
        "end_percent": Float(default=1.0, min=0.0, max=1.0, step=0.001),
        "vae": Vae(optional=True),
    }
    outputs = {"positive": Output("CONDITIONING", "positive"), "negative": Output("CONDITIONING", "negative")}

    def run(self, positive, negative, control_net, image, strength, start_percent, end_percent, vae=None):
        if strength == 0:
            return positive, negative
        hint = _hint(image)
        made: dict[int, object] = {}  # previous control -> its new chain (shared by positive and negative)
        sides = []
        for conditioning in (positive, negative):
            side = []
            for cond, options in conditioning:
                previous = options.get("control")
                if id(previous) not in made:
                    made[id(previous)] = (
                        control_net.copy()
                        .set_cond_hint(hint, strength, (start_percent, end_percent), vae=vae)
                        .set_previous_controlnet(previous)
                    )
                side.append([cond, {**options, "control": made[id(previous)], "control_apply_to_uncond": False}])
            sides.append(side)
        return sides[0], sides[1]


# ComfyUI's Union ControlNet task numbers (comfy/cldm/control_types.py)
UNION_CONTROLNET_TYPES = {
    "openpose": 0,
    "depth": 1,
    "hed/pidi/scribble/ted": 2,
    "canny/lineart/anime_lineart/mlsd": 3,
    "normal": 4,
    "segment": 5,
    "tile": 6,
    "repaint": 7,
}


class SetUnionControlNetType(Node):
    """Tell a Union ControlNet which kind of hint it gets ("auto": let it guess). A copy of the
    control is returned; single-purpose ControlNets ignore the setting (NodeFlow refuses Union
    ControlNet files at load, so here it only keeps such workflows loading)."""

    category = "conditioning/controlnet"
    inputs = {"control_net": ControlNet(), "type": Combo(choices=["auto", *UNION_CONTROLNET_TYPES])}
    outputs = {"CONTROL_NET": ControlNet()}

    def run(self, control_net, type):
        control_net = control_net.copy()
        number = UNION_CONTROLNET_TYPES.get(type)
        control_net.set_extra_arg("control_type", [number] if number is not None else [])
        return control_net
