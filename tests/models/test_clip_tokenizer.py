"""The shipped CLIP tokenizer gives CLIP's own token ids, offline."""

from nodeflow.models.clip_tokenizer import BOS, EOS, load_clip_tokenizer


def test_known_ids():
    tok = load_clip_tokenizer()
    assert len(tok) == 49408
    assert tok("a photo of a cat").input_ids == [BOS, 320, 1125, 539, 320, 2368, EOS]
    assert tok("A LARGE red star").input_ids == [BOS, 320, 3638, 736, 1565, EOS]  # lower-cased


def test_padding_is_sd1_style():
    ids = load_clip_tokenizer()([""], padding="max_length", max_length=77).input_ids[0]
    assert len(ids) == 77 and ids[0] == BOS and set(ids[1:]) == {EOS}
