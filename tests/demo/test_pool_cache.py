"""The t2i trainer caches its encoded training pool; a VAE retrained at the same path must not
reuse latents encoded by the old one."""

import os

import torch

from nodeflow.demo import train_t2i


def test_pool_cache_is_reused_for_the_same_vae_file_and_redone_for_a_new_one(tmp_path, monkeypatch):
    encodes = []

    def fake_encode(vae, count, seed):
        encodes.append(vae)
        return torch.full((count, 4, 8, 8), float(len(encodes))), ["a red star"] * count

    monkeypatch.setattr(train_t2i, "load_trained_vae", lambda path: path.read_text())
    monkeypatch.setattr(train_t2i, "encode_pool", fake_encode)
    vae, cache = tmp_path / "vae.pt", tmp_path / "t2i_pool.pt"
    vae.write_text("first vae")
    first, _ = train_t2i.cached_pool(vae, 8, 1, cache)
    again, _ = train_t2i.cached_pool(vae, 8, 1, cache)
    assert encodes == ["first vae"] and torch.equal(first, again)

    vae.write_text("second vae, retrained")
    os.utime(vae, ns=(vae.stat().st_atime_ns, vae.stat().st_mtime_ns + 1_000_000))
    fresh, _ = train_t2i.cached_pool(vae, 8, 1, cache)
    assert encodes == ["first vae", "second vae, retrained"] and float(fresh[0, 0, 0, 0]) == 2.0
    other_size, _ = train_t2i.cached_pool(vae, 16, 1, cache)
    assert len(encodes) == 3 and other_size.shape[0] == 16
