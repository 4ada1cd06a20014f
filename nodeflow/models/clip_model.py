"""The CLIP object behind the CLIP socket: tokenizer, one to three text towers (SD1: CLIP-L;
SD2: OpenCLIP-H; SDXL: CLIP-L + OpenCLIP-bigG; refiner: bigG; SD3: CLIP-L + CLIP-G + T5-XXL; Flux:
CLIP-L + T5-XXL, a T5 tower tokenising itself and the family joining the outputs), prompt weighting, long prompts
(75-token chunks concatenated), textual inversions and clip skip. It is also ComfyUI's CLIP for
custom-node packs (``comfy_facade.clip``: ``tokenize(text)``, ``encode_from_tokens`` ...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from .comfy_facade.clip import ClipFacade
from .comfy_facade.state import FacadeState
from .embeddings import load_embedding
from .patching import PatchedModule
from .prompt_weights import parse_weights, split_embeddings

BOS, EOS = 49406, 49407
CHUNK = 75
Token = tuple[int | torch.Tensor, float]  # a token id (or an embedding vector) and its weight


@dataclass
class TextEncoder:
    """One CLIP tower. ``layer`` is the hidden layer used (-1 = last); ``pad`` the pad token id."""

    model: PatchedModule  # a ClipTextModel(WithProjection) (nets.clip_text) or transformers' class of that name
    name: str  # "clip_l", "clip_h" or "clip_g": the key textual inversions use for this tower
    pad: int = EOS
    layer: int = -1
    default_layer: int = -1
    final_norm_on_hidden: bool = True

    @property
    def text_model(self) -> torch.nn.Module:
        module = self.model.module
        return getattr(module, "text_model", module)

    @property
    def width(self) -> int:
        return self.text_model.embeddings.token_embedding.weight.shape[1]

    def clone(self) -> TextEncoder:
        return TextEncoder(
            self.model.clone(), self.name, self.pad, self.layer, self.default_layer, self.final_norm_on_hidden
        )

    def forward(self, chunk: list[Token], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden states [1, 77, D] of the chosen layer and the pooled (projected) EOS state [1, P]."""
        tm = self.text_model
        ids = torch.tensor([[t if isinstance(t, int) else 0 for t, _ in chunk]], device=device)
        table = tm.embeddings.token_embedding
        embeds = table(ids)
        for pos, (tok, _) in enumerate(chunk):
            if isinstance(tok, torch.Tensor):
                embeds[0, pos] = tok.to(device=device, dtype=embeds.dtype)
        hidden = tm.embeddings(inputs_embeds=embeds)
        length = hidden.shape[1]
        mask = torch.full((length, length), float("-inf"), device=device, dtype=hidden.dtype).triu(1)[None, None]
        layers = tm.encoder.layers
        target = self.layer % len(layers)
        chosen = None
        for index, layer in enumerate(layers):
            hidden = layer(hidden, mask)
            if isinstance(hidden, tuple):
                hidden = hidden[0]
            if index == target:
                chosen = hidden
        last = tm.final_layer_norm(hidden)
        if target == len(layers) - 1:
            chosen = last
        elif self.final_norm_on_hidden:
            chosen = tm.final_layer_norm(chosen)
        eos = int((ids[0] == EOS).nonzero()[0]) if (ids[0] == EOS).any() else length - 1
        pooled = last[:, eos]
        projection = getattr(self.model.module, "text_projection", None)
        if projection is not None:
            pooled = projection(pooled)
        return chosen, pooled


class CLIP(ClipFacade):
    """Tokenise, weight and encode prompts. ``encode`` returns (cond [1,T,D], pooled|None, extras)."""

    def __init__(
        self, tokenizer, encoders: list[TextEncoder], family, manager=None, pooled_from: str | None = None
    ) -> None:
        self.tokenizer = tokenizer
        self.encoders = encoders
        self.family = family  # the ModelFamily these towers belong to
        self.manager = manager
        self.pooled_from = pooled_from  # the tower whose pooled output is the conditioning's
        self.embedding_directory: list[str] = []  # folders ``embedding:name`` is looked up in (ComfyUI's name)
        self.tokenizer_options: dict = {}
        self.facade_state = FacadeState()

    def clone(self) -> CLIP:
        clone = CLIP(self.tokenizer, [e.clone() for e in self.encoders], self.family, self.manager, self.pooled_from)
        clone.embedding_directory = list(self.embedding_directory)
        clone.tokenizer_options = dict(self.tokenizer_options)
        clone.facade_state = self.facade_state.copy()
        return clone

    def set_last_layer(self, layer: int) -> None:
        """Clip skip: -1 = last layer, -2 = the one before, ... (towers keep their own defaults
        when they already use a deeper layer, as SDXL's penultimate-layer towers do)."""
        if layer >= 0:
            raise ValueError(f"stop_at_clip_layer must be negative (-1 = last layer), got {layer}")
        for enc in self.encoders:
            enc.layer = min(layer, enc.default_layer)

    # tokenising ----------------------------------------------------------------------------
    def tokenize(
        self,
        text: str,
        enc: TextEncoder | bool | None = None,
        find_embedding: Callable[[str], Path | None] | None = None,
        return_word_ids: bool = False,
        **kwargs,
    ) -> list[list[Token]] | dict:
        """Weighted tokens in 75-token chunks (words kept whole), each framed BOS ... EOS and
        padded to 77 with the tower's pad token. Without a tower (ComfyUI's call, ``tokenize(text)``)
        a dict of every tower's chunks keyed "l" / "g" / "h"."""
        if enc is None or isinstance(enc, bool):
            return self._comfy_tokenize(text, return_word_ids=bool(enc) or return_word_ids)
        own = getattr(enc, "tokenize", None)
        if own is not None:  # a non-CLIP tower (T5) tokenises itself
            return own(text, find_embedding)
        width, name = enc.width, enc.name
        words: list[list[Token]] = []
        for piece, weight in parse_weights(text):
            for part, is_embedding in split_embeddings(piece):
                if is_embedding:
                    vectors = load_embedding(part, find_embedding, width, name)
                    words.append([(v, weight) for v in vectors])
                    continue
                for word in part.split():
                    ids = self.tokenizer(word, add_special_tokens=False)["input_ids"]
                    if ids:
                        words.append([(i, weight) for i in ids])
        chunks: list[list[Token]] = [[]]
        for word in words:
            if len(chunks[-1]) + len(word) > CHUNK:
                if len(word) <= CHUNK and chunks[-1]:
                    chunks.append([])
                while len(word) > CHUNK - len(chunks[-1]):
                    room = CHUNK - len(chunks[-1])
                    chunks[-1].extend(word[:room])
                    word = word[room:]
                    chunks.append([])
            chunks[-1].extend(word)
        if len(chunks) > 1 and not chunks[-1]:
            chunks.pop()
        return [[(BOS, 1.0)] + c + [(EOS, 1.0)] + [(enc.pad, 1.0)] * (CHUNK - len(c)) for c in chunks]

    # encoding ------------------------------------------------------------------------------
    @torch.no_grad()
    def encode(
        self, text: str, find_embedding: Callable[[str], Path | None] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None, dict]:
        tokens = {enc.name: self.tokenize(text, enc, find_embedding) for enc in self.encoders}
        cond, pooled = self.encode_chunks(tokens)
        return cond, pooled, {}

    @torch.no_grad()
    def encode_towers(
        self, texts: dict[str, str | None], find_embedding=None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Each tower its own prompt (CLIPTextEncodeSD3 / Flux); a tower given None is left out and
        the family's combine_text fills its part (zeros), as ComfyUI does without padding."""
        tokens = {
            enc.name: self.tokenize(texts.get(enc.name) or "", enc, find_embedding)
            for enc in self.encoders
            if texts.get(enc.name, "") is not None
        }
        if not tokens and getattr(self.family, "combine_text", None) is not None:
            return self.family.combine_text({})
        return self.encode_chunks(tokens)

    @torch.no_grad()
    def encode_chunks(self, tokens: dict[str, list[list[Token]]]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(cond [1, 77 * chunks, D], pooled [1, P] or None) from each tower's token chunks (keyed by
        tower name); towers' hidden states are concatenated along the last axis."""
        hidden_parts, pooled, parts = [], None, {}
        for enc in self.encoders:
            if enc.name not in tokens:
                continue
            enc.model.activate()
            chunks = tokens[enc.name]
            empty = None
            per_chunk = []
            device = self._device_for(enc)
            with self._use(enc):
                for index, chunk in enumerate(chunks):
                    z, p = enc.forward(chunk, device)
                    weights = torch.tensor([w for _, w in chunk], device=z.device, dtype=z.dtype)
                    if (weights != 1.0).any():
                        if empty is None:
                            blank = enc.empty_like(chunk) if hasattr(enc, "empty_like") else self.tokenize("", enc)[0]
                            empty = enc.forward(blank, device)[0]
                        z = empty + (z - empty) * weights[None, :, None]
                    per_chunk.append(z)
                    if index == 0 and (self.pooled_from in (None, enc.name)):
                        pooled = p
                    if index == 0:
                        first_pooled = p
            hidden_parts.append(torch.cat(per_chunk, dim=1).float().cpu())
            parts[enc.name] = (hidden_parts[-1], None if first_pooled is None else first_pooled.float().cpu())
        combine = getattr(self.family, "combine_text", None)
        if combine is not None:  # SD3 / Flux join their towers their own way
            return combine(parts)
        if pooled is not None:
            pooled = pooled.float().cpu()
        cond = torch.cat(hidden_parts, dim=-1) if len(hidden_parts) > 1 else hidden_parts[0]
        return cond, pooled

    def _device_for(self, enc: TextEncoder) -> torch.device:
        return self.manager.text_encoder_device() if self.manager is not None else torch.device("cpu")

    def _use(self, enc: TextEncoder):
        import contextlib

        return self.manager.use_text_encoder(enc.model.module) if self.manager is not None else contextlib.nullcontext()

    def memory_bytes(self) -> int:
        return sum(sum(p.numel() * p.element_size() for p in e.model.module.parameters()) for e in self.encoders)
