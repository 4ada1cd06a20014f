"""NodeFlow's own CLIP text encoder (nets/clip_text.py) and CLIP tokenizer (clip_tokenizer.py) against transformers':
the same module tree, state-dict names and shapes, bit-equal numbers in fp32 and the same token ids."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import transformers

from nodeflow.models.clip_model import EOS, TextEncoder
from nodeflow.models.clip_tokenizer import DATA, load_clip_tokenizer
from nodeflow.models.kernels import use_kernels
from nodeflow.models.loader import clip_text_factory
from nodeflow.models.nets.clip_text import ClipTextConfig, ClipTextModel, ClipTextModelWithProjection
from nodeflow.models.patching import PatchedModule

REPO = Path(__file__).resolve().parents[2]
BASE = {"vocab_size": 49408, "max_position_embeddings": 77, "bos_token_id": 49406, "eos_token_id": 49407}
# small configs shaped as NodeFlow's detector builds them (detect._clip_l_config / _open_clip_config, text_towers)
CONFIGS = {
    "clip_l": dict(BASE, hidden_size=64, intermediate_size=256, num_hidden_layers=3, num_attention_heads=1)
    | {"projection_dim": 64, "hidden_act": "quick_gelu"},
    "open_clip_h": dict(BASE, hidden_size=128, intermediate_size=512, num_hidden_layers=4, num_attention_heads=2)
    | {"projection_dim": 96, "hidden_act": "gelu", "pad_token_id": 0},
    "big_g": dict(BASE, hidden_size=192, intermediate_size=768, num_hidden_layers=5, num_attention_heads=3)
    | {"projection_dim": 160, "hidden_act": "gelu"},
}


def pair(name: str, projection: bool, seed: int = 0):
    """transformers' model with random weights and NodeFlow's with the same weights (strict load)."""
    torch.manual_seed(seed)
    kwargs = CONFIGS[name]
    library = transformers.CLIPTextModelWithProjection if projection else transformers.CLIPTextModel
    ref = library(transformers.CLIPTextConfig(**kwargs)).eval()
    with torch.no_grad():  # LayerNorms away from their 1/0 initial values
        for n, p in ref.named_parameters():
            if "layer_norm" in n:
                p.add_(torch.randn_like(p) * 0.1)
    mine = (ClipTextModelWithProjection if projection else ClipTextModel)(ClipTextConfig(**kwargs)).eval()
    mine.load_state_dict(ref.state_dict(), strict=True)
    return ref, mine


def ids_batch() -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    rows = []
    for length in (5, 30, 75):
        body = torch.randint(0, 49406, (length,), generator=g).tolist()
        rows.append([49406, *body, EOS] + [EOS] * (75 - length))
    return torch.tensor(rows)


@pytest.mark.parametrize("projection", [False, True])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_same_module_tree_state_dict_and_buffers(name, projection):
    ref, mine = pair(name, projection)
    assert [(k, v.shape) for k, v in ref.state_dict().items()] == [(k, v.shape) for k, v in mine.state_dict().items()]
    assert [n for n, _ in ref.named_modules()] == [n for n, _ in mine.named_modules()]
    for (n, a), (_, b) in zip(ref.named_buffers(), mine.named_buffers(), strict=True):
        assert torch.equal(a, b), n
    layer_types = (torch.nn.Linear, torch.nn.LayerNorm, torch.nn.Embedding)
    ref_layers = {n: type(m) for n, m in ref.named_modules() if isinstance(m, layer_types)}
    assert ref_layers == {n: type(m) for n, m in mine.named_modules() if isinstance(m, layer_types)}
    assert mine.config.hidden_act == CONFIGS[name]["hidden_act"]


@pytest.mark.parametrize("projection", [False, True])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_plain_forward_is_bit_equal(name, projection):
    ref, mine = pair(name, projection, seed=1)
    ids = ids_batch()
    with torch.no_grad():
        a = ref(input_ids=ids, output_hidden_states=True)
        b = mine(input_ids=ids, output_hidden_states=True)
        assert list(a.keys()) == list(b.keys())
        for key in a:
            if key == "hidden_states":
                assert len(a[key]) == len(b[key]) == CONFIGS[name]["num_hidden_layers"] + 1
                assert all(torch.equal(x, y) for x, y in zip(a[key], b[key], strict=True))
            else:
                assert torch.equal(a[key], b[key]), key
        assert torch.equal(a[0], b[0])
        padding = (torch.arange(77)[None] < torch.tensor([[7], [32], [77]])).long()  # right padding
        a = ref(input_ids=ids, attention_mask=padding)
        b = mine(input_ids=ids, attention_mask=padding)
        assert torch.equal(a.last_hidden_state, b.last_hidden_state)


def chunk_with_embedding(width: int) -> list:
    """A 77-token chunk as CLIP.tokenize makes it, with two textual-inversion vectors and weights."""
    g = torch.Generator().manual_seed(5)
    words = [(int(i), 1.0) for i in torch.randint(0, 49406, (20,), generator=g)]
    vectors = [(torch.randn(width, generator=g), 1.2) for _ in range(2)]
    body = words[:10] + vectors + words[10:]
    return [(49406, 1.0), *body, (EOS, 1.0)] + [(EOS, 1.0)] * (75 - len(body))


@pytest.mark.parametrize("final_norm", [True, False])
@pytest.mark.parametrize("name,projection", [("clip_l", False), ("open_clip_h", True), ("big_g", True)])
def test_text_encoder_forward_is_bit_equal(name, projection, final_norm):
    """TextEncoder.forward (embeddings(inputs_embeds=...), layer(hidden, mask), final norm, projection) over the
    last, penultimate and a middle layer."""
    ref, mine = pair(name, projection, seed=2)
    chunk = chunk_with_embedding(CONFIGS[name]["hidden_size"])
    for layer in (-1, -2, 1):
        outs = []
        for module in (ref, mine):
            enc = TextEncoder(PatchedModule(module), name, layer=layer, final_norm_on_hidden=final_norm)
            with torch.no_grad():
                outs.append(enc.forward(chunk, torch.device("cpu")))
        (za, pa), (zb, pb) = outs
        assert torch.equal(za, zb), layer
        assert torch.equal(pa, pb), layer
        assert pa.shape[-1] == (CONFIGS[name]["projection_dim"] if projection else CONFIGS[name]["hidden_size"])


@pytest.mark.parametrize("tower_name", ["clip_l", "clip_g"])
def test_transformers_layout_towers_build_the_own_model(tower_name):
    """SD3 / Flux towers stored in transformers' names (text_towers.tower_from_state) become the own classes
    and encode as the library's model with those weights does."""
    from nodeflow.models.family import family_named
    from nodeflow.models.text_towers import tower_from_state

    tower = family_named("sd3").tower(tower_name)
    act = "gelu" if tower_name == "clip_g" else "quick_gelu"
    kwargs = dict(BASE, hidden_size=128, intermediate_size=256, num_hidden_layers=3, num_attention_heads=2)
    kwargs |= {"projection_dim": 128, "hidden_act": act, "pad_token_id": 0 if tower_name == "clip_g" else 1}
    torch.manual_seed(6)
    library = transformers.CLIPTextModelWithProjection if tower.projection else transformers.CLIPTextModel
    ref = library(transformers.CLIPTextConfig(**kwargs)).eval()
    state = {
        k if k.startswith(("text_model.", "text_projection")) else "text_model." + k: v.clone()
        for k, v in ref.state_dict().items()
    }
    enc = tower_from_state(state, tower, torch.float32, "test file")
    assert type(enc.model.module) is (ClipTextModelWithProjection if tower.projection else ClipTextModel)
    chunk = chunk_with_embedding(128)
    theirs = TextEncoder(PatchedModule(ref), tower.name, enc.pad, enc.layer, enc.layer, enc.final_norm_on_hidden)
    with torch.no_grad():
        got, want = enc.forward(chunk, torch.device("cpu")), theirs.forward(chunk, torch.device("cpu"))
    assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])


def test_fast_kernels_and_16bit_weights_stay_equal():
    """kernels.py swaps the Linear classes in place; the own model computes as the library's does after it."""
    ref, mine = pair("big_g", True, seed=4)
    for module in (ref, mine):
        module.to(torch.bfloat16)
        assert use_kernels(module) == 4 * 5 + 2 * 5 + 1
    ids = ids_batch()[:1]
    with torch.no_grad():
        assert torch.equal(ref(input_ids=ids).text_embeds, mine(input_ids=ids).text_embeds)


def test_unsupported_configs_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="hidden_act='relu'"):
        ClipTextConfig(**dict(CONFIGS["clip_l"], hidden_act="relu"))
    with pytest.raises(ValueError, match="config key output_attentions=True"):
        ClipTextConfig(output_attentions=True)
    with pytest.raises(ValueError, match="not a multiple of num_attention_heads=5"):
        ClipTextConfig(hidden_size=64, num_attention_heads=5)
    with pytest.raises(ValueError, match="positive integer hidden_size"):
        ClipTextConfig(hidden_size=0)
    # the loader builds transformers' class for a config the own one refuses, its own otherwise
    assert isinstance(
        clip_text_factory(dict(CONFIGS["clip_l"], hidden_act="gelu_new"), False)(), transformers.CLIPTextModel
    )
    assert type(clip_text_factory(CONFIGS["clip_l"], True)()) is ClipTextModelWithProjection


def test_defaults_are_transformers_defaults():
    ours = ClipTextConfig().to_dict()
    theirs = transformers.CLIPTextConfig().to_dict()
    assert ours == {k: theirs[k] for k in ours}


# tokenizer ---------------------------------------------------------------------------------------
PROMPTS = [
    "",
    " ",
    "a photo of a cat",
    "A LARGE red star",
    "(masterpiece:1.2), best quality, [ugly], {x|y}, ((nested)), \\(escaped\\)",
    "embedding:my_style, bright",
    "café naïve résumé Ångström façade",
    "東京の夜景、美しい 風景 中文 한국어",
    "🐱🚀 emoji✨ 👨‍👩‍👧 🏳️‍🌈",
    "don't it's we'll they've I'm you'd DON'T It'S",
    "  extra   whitespace\t\nnewline \r\n ",
    "1234567890 3.14 1e10 -5 1,000,000 2nd",
    "<|endoftext|> and <|startoftext|> inside<|endoftext|>text",
    "supercalifragilisticexpialidocious" * 3,
    "x" * 300,
    "red star " * 60,
    "Ünïcödé ß ﬁ ligature Ⅻ ½",
    "\u00a0nbsp\u200bzero\u2028line",
    "a\u0301 combining e\u0308",
    "Привет мир Ελληνικά",
    "مرحبا עברית नमस्ते ไทย",
    "!!!???...,,, ;;; --- ___",
    "'quoted' \"double\" `back`",
    "c++ C# f(x)=y^2 a/b\\c @user #tag $5 100%",
    "\x00\x01 control \x7f",
]


@pytest.fixture(scope="module")
def library_tokenizer():
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        data = json.load(f)
    merges = [tuple(m.split(" ")) for m in data["merges"]]
    return transformers.CLIPTokenizer(vocab=data["vocab"], merges=merges, model_max_length=77)


def random_prompts(count: int = 300) -> list[str]:
    rng = random.Random(11)
    pool = "abcXYZ éñüß東京語🙂🚀 ,.;:'\"!?()[]{}<>|\\/-_=+*&^%$#@~`0123456789\t\n\u0301\u200d"
    return ["".join(rng.choice(pool) for _ in range(rng.randint(0, 40))) for _ in range(count)]


def test_tokenizer_backend_is_transformers_pipeline(library_tokenizer):
    assert json.loads(load_clip_tokenizer().backend_tokenizer.to_str()) == json.loads(
        library_tokenizer.backend_tokenizer.to_str()
    )
    assert len(load_clip_tokenizer()) == len(library_tokenizer) == 49408


def test_tokenizer_gives_transformers_ids(library_tokenizer):
    mine = load_clip_tokenizer()
    for text in PROMPTS + random_prompts():
        for specials in (True, False):
            want = library_tokenizer(text, add_special_tokens=specials)["input_ids"]
            assert mine(text, add_special_tokens=specials)["input_ids"] == want, (text, specials)
        for word in text.split():  # CLIP.tokenize's call
            want = library_tokenizer(word, add_special_tokens=False)["input_ids"]
            assert mine(word, add_special_tokens=False)["input_ids"] == want, word
        assert mine(text).input_ids == mine.encode(text)


def test_tokenizer_batch_forms(library_tokenizer):
    mine = load_clip_tokenizer()
    kwargs = {"padding": "max_length", "max_length": 77, "truncation": True, "return_tensors": "pt"}
    want, got = library_tokenizer(PROMPTS, **kwargs), mine(PROMPTS, **kwargs)
    assert torch.equal(want.input_ids, got.input_ids) and torch.equal(want.attention_mask, got.attention_mask)
    assert got.input_ids.dtype == torch.int64
    for kwargs in (
        {"padding": True},
        {"padding": "longest", "truncation": True},
        {"truncation": True, "max_length": 9},
    ):
        want, got = library_tokenizer(PROMPTS, **kwargs), mine(PROMPTS, **kwargs)
        assert want["input_ids"] == got["input_ids"] and want["attention_mask"] == got["attention_mask"], kwargs
    assert mine.decode(mine("Hello world").input_ids) == library_tokenizer.decode(
        library_tokenizer("Hello world").input_ids
    )
    with pytest.raises(ValueError, match="padding='wide'"):
        mine("x", padding="wide")


def test_sd1_checkpoint_text_path_imports_no_transformers(tmp_path):
    """A fresh process builds the CLIP of an SD1 file (own tokenizer and tower) and encodes without transformers."""
    from tests.sd.tiny import write_tiny_sd1

    path = write_tiny_sd1(tmp_path / "tiny.safetensors")
    script = f"""
import sys
import torch
from nodeflow.models.checkpoint_file import load_state_dict
from nodeflow.models.detect import detect_checkpoint
from nodeflow.models.loader import _text_encoder, make_clip
sd = load_state_dict({str(path)!r})
info = detect_checkpoint({{k: tuple(v.shape) for k, v in sd.items()}})
clip = make_clip([_text_encoder(c, sd, info.family.tower(c["tower"]), torch.float32) for c in info.text_configs], info.family, None)
cond = clip.encode("a (red:1.2) star")[0]
print(type(clip.encoders[0].model.module).__name__, tuple(cond.shape), "transformers" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ClipTextModel", "(1,", "77,", "32)", "False"]
