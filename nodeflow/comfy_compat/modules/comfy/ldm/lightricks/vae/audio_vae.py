"""comfy.ldm.lightricks.vae.audio_vae for custom-node packs: the LTX-2 audio VAE class, importable so
packs load; NodeFlow has no LTX-2 audio model, so building one raises a clear error."""

from __future__ import annotations

import torch

from nodeflow.comfy_compat import missing


class AudioVAE(torch.nn.Module):
    """LTX-2's audio VAE (state_dict, metadata). Not available in NodeFlow."""

    def __init__(self, state_dict: dict, metadata: dict) -> None:
        raise NotImplementedError(
            "comfy.ldm.lightricks.vae.audio_vae.AudioVAE: NodeFlow has no LTX-2 audio VAE; "
            "the node that needs it cannot run here"
        )


__getattr__ = missing("comfy.ldm.lightricks.vae.audio_vae")
