"""DisentangleModule and DisReID: shapes, the gate, masking, batch independence, save/load, bad input."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from transformers import CLIPModel

from conftest import CAPTIONS, IMAGE_SIZE, SMALL_VIT, small_config
from disreid.config import TrainConfig
from disreid.losses import AdvancedLoss
from disreid.model import CheckpointNotFoundError, DisentangleModule, DisReID, build_model
from disreid.model.encoders import CLIPImageEncoder
from disreid.training.optim import build_optimizer, build_scheduler


def images(count: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(count, 3, *IMAGE_SIZE, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------- DisentangleModule
def test_disentangle_gate_is_inside_unit_interval_and_weights_the_branches():
    torch.manual_seed(0)
    module = DisentangleModule(dim=32, num_heads=4, self_layers=2, cross_layers=2).eval()
    gate_inputs = []
    module.gate.register_forward_hook(lambda _module, inputs, _output: gate_inputs.append(inputs[0]))
    f_id, f_cl, gate = module(torch.randn(3, 7, 32))
    identity, clothing = gate_inputs[0].chunk(2, dim=-1)  # the pooled branches fed to the gate
    assert f_id.shape == f_cl.shape == gate.shape == (3, 32)
    assert ((gate > 0) & (gate < 1)).all()
    torch.testing.assert_close(f_id, gate * identity)
    torch.testing.assert_close(f_cl, (1 - gate) * clothing)


def test_disentangle_ignores_padded_tokens():
    torch.manual_seed(0)
    module = DisentangleModule(dim=16, num_heads=2, self_layers=2, cross_layers=2).eval()
    tokens = torch.randn(2, 6, 16)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0]], dtype=torch.bool)
    changed = tokens.clone()
    changed[~mask] = torch.randn(int((~mask).sum()), 16) * 100
    for first, second in zip(module(tokens, mask), module(changed, mask), strict=True):
        torch.testing.assert_close(first, second)


def test_disentangle_is_batch_independent_in_eval_mode():
    torch.manual_seed(0)
    module = DisentangleModule(dim=16, num_heads=2, self_layers=2, cross_layers=1).eval()
    tokens = torch.randn(4, 5, 16)
    changed = tokens.clone()
    changed[2] = torch.randn(5, 16)
    for first, second in zip(module(tokens), module(changed), strict=True):
        torch.testing.assert_close(first[[0, 1, 3]], second[[0, 1, 3]])
        assert not torch.allclose(first[2], second[2])


def test_cross_attention_is_symmetric():
    """Each direction reads the states of the layer before: swapping the branch weights swaps outputs."""
    torch.manual_seed(0)
    module = DisentangleModule(dim=16, num_heads=2, self_layers=0, cross_layers=2).eval()
    tokens = torch.randn(2, 5, 16)
    module.cloth_linear.load_state_dict(module.id_linear.state_dict())
    for id_block, cloth_block in zip(module.id_cross, module.cloth_cross, strict=True):
        cloth_block.load_state_dict(id_block.state_dict())
    gate_inputs = []
    module.gate.register_forward_hook(lambda _module, inputs, _output: gate_inputs.append(inputs[0]))
    module(tokens)
    identity, clothing = gate_inputs[0].chunk(2, dim=-1)
    # Same weights in both branches and symmetric updates: the branches stay equal. (The old sequential
    # update, where cloth read the already-updated id, would make them differ.)
    torch.testing.assert_close(identity, clothing)


def test_disentangle_rejects_bad_shapes():
    module = DisentangleModule(dim=16, num_heads=2, self_layers=1, cross_layers=1)
    with pytest.raises(ValueError, match="batch, length, dim"):
        module(torch.randn(4, 16))
    with pytest.raises(ValueError, match="at least one unmasked token"):
        module(torch.randn(1, 3, 16), torch.zeros(1, 3, dtype=torch.bool))


# ---------------------------------------------------------------------------------- DisReID
def test_shapes_for_each_backbone(any_model: DisReID):
    model = any_model.eval()
    embeddings = model.encode_image(images(3))
    for tensor in (embeddings.full, embeddings.identity, embeddings.clothing):
        assert tensor.shape == (3, 16)
        torch.testing.assert_close(tensor.norm(dim=-1), torch.ones(3))
    assert embeddings.gate.shape == (3, model.image_encoder.hidden_size)
    text = model.encode_text(CAPTIONS[:2])
    assert text.shape == (2, 16)
    torch.testing.assert_close(text.norm(dim=-1), torch.ones(2))
    output = model.train()(images(2), CAPTIONS[:2], CAPTIONS[2:], CAPTIONS[1:3])
    assert output.text_identity.shape == output.clothing_adversary.shape == (2, 16)
    assert output.identity_adversary.shape == (2, 16)
    assert output.identity_logits.shape == (2, 4)


def test_save_and_load_give_identical_embeddings(any_model: DisReID, tmp_path):
    model = any_model.eval()
    model.save_pretrained(tmp_path / "saved")
    loaded = DisReID.from_pretrained(tmp_path / "saved")
    with torch.no_grad():
        before, after = model.encode_image(images(2)), loaded.encode_image(images(2))
        torch.testing.assert_close(before.full, after.full, rtol=0, atol=0)
        torch.testing.assert_close(before.identity, after.identity, rtol=0, atol=0)
        torch.testing.assert_close(model.encode_text(CAPTIONS), loaded.encode_text(CAPTIONS), rtol=0, atol=0)
    assert loaded.config == model.config


def test_conv_stem_feeds_the_vit_a_smaller_map_and_survives_save_and_load(tmp_path):
    """Two stride-2 stages turn 32×16 pixels into an 8×4 map; the ViT's 2×2 patches make 4×2 tokens. The
    BatchNorm statistics gathered in training are part of what is saved."""
    torch.manual_seed(0)
    encoder = {**SMALL_VIT, "conv_stem": [8, 16], "patch_size": 2}
    model = build_model(small_config(image_encoder=encoder), CAPTIONS)
    assert model.image_encoder(images(2)).shape == (2, 1 + 4 * 2, SMALL_VIT["hidden_size"])
    model.train()(images(4), CAPTIONS, CAPTIONS, CAPTIONS)  # moves the running statistics
    model.eval().save_pretrained(tmp_path / "saved")
    loaded = DisReID.from_pretrained(tmp_path / "saved")
    assert loaded.config.image_encoder["num_channels"] == 16
    with torch.no_grad():
        torch.testing.assert_close(
            model.encode_image(images(2)).full, loaded.encode_image(images(2)).full, rtol=0, atol=0
        )


def test_conv_stem_needs_an_image_size_divisible_by_its_stride():
    encoder = {**SMALL_VIT, "conv_stem": [8, 8, 8], "patch_size": 1}
    with pytest.raises(ValueError, match="not divisible by the conv stem's stride 8"):
        build_model(small_config(image_size=(36, 16), image_encoder=encoder), CAPTIONS)


def test_text_pooling_ignores_padding(any_model: DisReID):
    model = any_model.eval()
    with torch.no_grad():
        alone = model.encode_text([CAPTIONS[2]])
        beside_longer = model.encode_text([CAPTIONS[2], CAPTIONS[0]])[:1]  # now padded
    torch.testing.assert_close(alone, beside_longer)


def test_tokens_are_those_of_the_tokenizer_padded_to_the_longest(any_model: DisReID):
    texts = [CAPTIONS[0], CAPTIONS[2], " ".join(["red"] * 500)]  # the last is truncated
    expected = any_model.tokenizer(
        texts, padding=True, truncation=True, max_length=any_model.config.text_max_length, return_tensors="pt"
    )
    for _ in range(2):  # the second time, from the model's cache of token ids
        tokens = any_model.tokenize(texts)
        assert torch.equal(tokens["input_ids"], expected["input_ids"])
        assert torch.equal(tokens["attention_mask"], expected["attention_mask"])


def test_clip_interpolates_position_embeddings(clip_checkpoint):
    model = build_model(small_config("clip", checkpoint=str(clip_checkpoint), image_size=(48, 16))).eval()
    assert model.image_encoder(torch.randn(1, 3, 48, 16)).shape == (1, 1 + 6 * 2, 32)


def test_clip_overlapping_patches(clip_checkpoint, tmp_path):
    """Patches 8 wide every 4 pixels: an 11×3 grid at 48×16. The tokens are CLIP's own embedding of each
    window plus its position resized to the grid, exactly as Hugging Face resizes them at a stride of
    the patch size; a saved model rebuilds with the same stride."""
    model = build_model(
        small_config("clip", checkpoint=str(clip_checkpoint), image_size=(48, 16), patch_stride=4)
    )
    pixels = torch.randn(2, 3, 48, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert model.image_encoder(pixels).shape == (2, 1 + 11 * 3, 32)
        vision = CLIPModel.from_pretrained(clip_checkpoint).vision_model
        expected = vision.embeddings(pixels, interpolate_pos_encoding=True)
        torch.testing.assert_close(CLIPImageEncoder(vision, 8).overlapping_tokens(pixels), expected)
        model.eval().save_pretrained(tmp_path / "saved")
        loaded = DisReID.from_pretrained(tmp_path / "saved")
        torch.testing.assert_close(loaded.encode_image(pixels).identity, model.encode_image(pixels).identity)


def clip_features(output) -> torch.Tensor:
    """transformers 4 returns the projected features as a tensor, 5 as the output's `pooler_output`."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


@pytest.mark.parametrize("image_size", [(24, 24), (384, 128)])  # the checkpoint's own size, and interpolated
@pytest.mark.parametrize("disentangle", [True, False])
def test_clip_step_zero_scores_as_clip(clip_checkpoint, image_size, disentangle, one_thread):
    """Before any training, the full image and text embeddings are CLIP's own, and so is every score."""
    torch.manual_seed(0)
    config = small_config("clip", checkpoint=str(clip_checkpoint), image_size=image_size)
    config.disentangle = disentangle
    model = build_model(config).eval()
    clip = CLIPModel.from_pretrained(clip_checkpoint).eval()
    pixels = torch.randn(3, 3, *image_size, generator=torch.Generator().manual_seed(0))
    tokens = model.tokenize(CAPTIONS)
    interpolate = image_size != (24, 24)
    with torch.no_grad():
        image = model.encode_image(pixels).full
        text = model.encode_text(CAPTIONS)
        expected_image = clip_features(clip.get_image_features(pixels, interpolate_pos_encoding=interpolate))
        expected_text = clip_features(clip.get_text_features(**tokens))
        scores = clip(**tokens, pixel_values=pixels, interpolate_pos_encoding=interpolate).logits_per_text
    torch.testing.assert_close(image, F.normalize(expected_image, dim=-1), rtol=0, atol=1e-5)
    torch.testing.assert_close(text, F.normalize(expected_text, dim=-1), rtol=0, atol=1e-5)
    torch.testing.assert_close(text @ image.t(), scores / clip.logit_scale.exp(), rtol=0, atol=1e-5)


def test_clip_pooled_text_token_is_the_end_of_text_token(clip_checkpoint):
    """CLIP pools the first `eos_token_id` of each text; disreid pools the last real token: the same one."""
    model = build_model(small_config("clip", checkpoint=str(clip_checkpoint)))
    tokens = model.tokenize(CAPTIONS)
    last = tokens["attention_mask"].sum(dim=1) - 1
    ends = tokens["input_ids"][torch.arange(len(CAPTIONS)), last]
    assert (ends == CLIPModel.config_class.from_pretrained(clip_checkpoint).text_config.eos_token_id).all()


def test_trained_clip_model_saves_and_loads_with_its_projections(clip_checkpoint, tmp_path, one_thread):
    """After a few steps the residual Z is no longer zero, CLIP's projections have moved, and a model
    rebuilt from the saved folder alone (no checkpoint) gives the same embeddings."""
    torch.manual_seed(0)
    model = build_model(small_config("clip", checkpoint=str(clip_checkpoint)))
    projection = model.image_projection.weight.detach().clone()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss = AdvancedLoss(temperature=0.02)
    for step in range(3):
        output = model.train()(images(4, seed=step), CAPTIONS, CAPTIONS, CAPTIONS)
        optimizer.zero_grad()
        loss(output, torch.arange(4))["total"].backward()
        optimizer.step()
    assert model.residual_projection.weight.abs().sum() > 0
    assert not torch.equal(model.image_projection.weight, projection)
    model.eval().save_pretrained(tmp_path / "saved")
    loaded = DisReID.from_pretrained(tmp_path / "saved")
    with torch.no_grad():
        before, after = model.encode_image(images(2)), loaded.encode_image(images(2))
        for first, second in zip(vars(before).values(), vars(after).values(), strict=True):
            torch.testing.assert_close(first, second, rtol=0, atol=0)
        torch.testing.assert_close(model.encode_text(CAPTIONS), loaded.encode_text(CAPTIONS), rtol=0, atol=0)


def test_clip_projections_train_at_the_encoders_rate(clip_checkpoint):
    """CLIP's projections come with the checkpoint: only the new layers (Z among them) learn faster."""
    model = build_model(small_config("clip", checkpoint=str(clip_checkpoint)))
    optimizer = build_optimizer(model, TrainConfig(lr=1e-5, new_layer_lr_factor=5))
    rate = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    for name in ("image_projection", "text_projection", "image_encoder", "text_encoder"):
        assert {rate[id(p)] for p in getattr(model, name).parameters()} == {1e-5}
    for name in ("residual_projection", "identity_projection", "disentangle"):
        assert {rate[id(p)] for p in getattr(model, name).parameters()} == {5e-5}


def test_frozen_epochs_hold_the_pretrained_rate_at_zero_then_warm_it_up_of_its_own():
    model = build_model(small_config(), CAPTIONS)
    config = TrainConfig(lr=1.0, new_layer_lr_factor=2, epochs=2, warmup_epochs=0.5, frozen_epochs=1)
    optimizer = build_optimizer(model, config)
    scheduler = build_scheduler(optimizer, config, steps_per_epoch=4)
    rates: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(8):
        for group in optimizer.param_groups:
            rates[group["pretrained"]].append(group["lr"])
        optimizer.step()
        scheduler.step()
    pretrained, new = rates[True][::2], rates[False][::2]  # two groups each: decayed and not
    # 8 steps, 4 frozen; each warm-up 2 steps (10 % -> 55 %), then cosine over the steps left (6 and 2)
    assert pretrained == pytest.approx([0, 0, 0, 0, 0.1, 0.55, 1.0, 0.5])
    cosine = [0.5 * (1 + math.cos(math.pi * k / 6)) for k in range(6)]
    assert new == pytest.approx([2 * f for f in [0.1, 0.55, *cosine]])


def test_clip_joint_space_size_is_the_checkpoints(clip_checkpoint):
    model = build_model(small_config("clip", checkpoint=str(clip_checkpoint), embed_dim=None))
    assert model.config.embed_dim == 16
    with pytest.raises(ValueError, match="16-d joint space of its own: leave embed_dim unset"):
        build_model(small_config("clip", checkpoint=str(clip_checkpoint), embed_dim=512))


def test_baseline_without_disentangle_shares_one_embedding():
    model = build_model(small_config(disentangle=False), CAPTIONS).eval()
    embeddings = model.encode_image(images(2))
    assert embeddings.gate is None
    assert embeddings.identity is embeddings.full and embeddings.clothing is embeddings.full
    assert not hasattr(model, "clothing_adversary")


@pytest.mark.parametrize(
    ("full_gradient", "trained"), [("both", {"id", "cl"}), ("clothing", {"cl"}), ("none", set())]
)
def test_full_gradient_names_the_parts_that_the_full_embedding_trains(full_gradient, trained):
    model = build_model(small_config(full_gradient=full_gradient), CAPTIONS)
    parts = {"id": torch.randn(2, 8, requires_grad=True), "cl": torch.randn(2, 8, requires_grad=True)}
    full = model._full_parts(parts["id"], parts["cl"])
    if full.requires_grad:
        full.sum().backward()
    assert {name for name, part in parts.items() if part.grad is not None} == trained

    model.zero_grad()
    model.encode_image(images(2)).full.sum().backward()
    branches = [p for module in (model.disentangle, model.image_encoder) for p in module.parameters()]
    reached = [p.grad is not None and p.grad.abs().sum() > 0 for p in branches]
    assert all(reached) if trained else not any(reached)  # "none": the projection alone learns
    assert model.image_projection.weight.grad.abs().sum() > 0


def test_full_gradient_leaves_the_embeddings_as_they_are():
    torch.manual_seed(0)
    model = build_model(small_config(), CAPTIONS).eval()
    expected = model.encode_image(images(3))
    for full_gradient in ("clothing", "none"):
        model.config.full_gradient = full_gradient
        actual = model.encode_image(images(3))
        for name in ("full", "identity", "clothing"):
            torch.testing.assert_close(getattr(actual, name), getattr(expected, name))
    with pytest.raises(ValueError, match="full_gradient must be"):
        small_config(full_gradient="identity")


# -------------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def tiny_model() -> DisReID:
    return build_model(small_config(), CAPTIONS).eval()


@pytest.mark.parametrize("shape", [(2, 3, 64, 16), (2, 1, *IMAGE_SIZE), (3, *IMAGE_SIZE)])
def test_wrong_image_shape_is_named(tiny_model, shape):
    with pytest.raises(ValueError, match=r"expected images of shape \[N, 3, 32, 16\]"):
        tiny_model.encode_image(torch.randn(*shape))


def test_bad_texts_are_named(tiny_model):
    with pytest.raises(ValueError, match="texts is empty"):
        tiny_model.encode_text([])
    with pytest.raises(ValueError, match="text 1 is empty"):
        tiny_model.encode_text(["a man", "   "])
    with pytest.raises(TypeError, match="list of strings"):
        tiny_model.encode_text("a man")


def test_overlong_text_is_truncated(tiny_model):
    assert tiny_model.encode_text([" ".join(["red"] * 500)]).shape == (1, 16)


def test_unknown_backbone_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown backbone 'resnet'; choose one of: clip, tiny, vit-bert"):
        build_model(small_config("resnet"), CAPTIONS)


def test_tiny_needs_texts_for_its_vocabulary():
    with pytest.raises(ValueError, match="vocabulary from texts"):
        build_model(small_config())


def test_incomplete_checkpoint_folder_names_the_missing_file(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path / "model")
    (tmp_path / "model" / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="missing model.safetensors"):
        DisReID.from_pretrained(tmp_path / "model")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        DisReID.from_pretrained(tmp_path / "nowhere")


def test_weights_of_another_architecture_are_refused(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path / "model")
    other = build_model(small_config(embed_dim=8), CAPTIONS)
    other.save_pretrained(tmp_path / "other")
    (tmp_path / "model" / "model.safetensors").replace(tmp_path / "model" / "kept")
    (tmp_path / "other" / "model.safetensors").replace(tmp_path / "model" / "model.safetensors")
    with pytest.raises(ValueError, match="does not match"):
        DisReID.from_pretrained(tmp_path / "model")


def test_missing_hub_checkpoint_fails_at_once_and_says_how_to_pass_a_directory(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CheckpointNotFoundError, match=r"--set model.checkpoint=DIR"):
        build_model(small_config("clip", checkpoint="nobody/no-such-model"))
    with pytest.raises(CheckpointNotFoundError, match="does not exist"):
        build_model(small_config("clip", checkpoint="/no/such/dir"))


def test_save_is_atomic_when_interrupted(tiny_model, tmp_path, monkeypatch):
    tiny_model.save_pretrained(tmp_path / "model")
    before = (tmp_path / "model" / "model.safetensors").read_bytes()

    def crash(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("disreid.model.disreid.save_model", crash)
    with pytest.raises(KeyboardInterrupt):
        tiny_model.save_pretrained(tmp_path / "model")
    assert (tmp_path / "model" / "model.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


# ------------------------------------------------------------------------------------ start_from
def test_start_from_copies_what_fits_and_the_words_both_vocabularies_know():
    from disreid.model.transfer import start_from

    torch.manual_seed(0)
    source = build_model(small_config(num_classes=4), CAPTIONS)
    torch.manual_seed(1)
    model = build_model(small_config(num_classes=7), ["A man in a purple hat.", "She wears red shoes."])
    fresh_classifier = model.classifier.weight.clone()
    transfer = start_from(model, source)

    torch.testing.assert_close(model.disentangle.gate[0].weight, source.disentangle.gate[0].weight)
    torch.testing.assert_close(model.classifier.weight, fresh_classifier)  # 7 persons, not 4: left fresh
    assert transfer.fresh == ["classifier.weight", "classifier.bias"]
    mine, theirs = model.tokenizer.get_vocab(), source.tokenizer.get_vocab()
    table = lambda m: m.text_encoder.model.get_input_embeddings().weight  # noqa: E731
    for word in ("man", "red", "shoes", "[PAD]"):  # known to both
        torch.testing.assert_close(table(model)[mine[word]], table(source)[theirs[word]])
    assert "purple" not in theirs and not torch.equal(table(model)[mine["purple"]], table(source)[0])
    assert transfer.words_known == len(set(mine) & set(theirs)) < len(mine)


def test_start_from_refuses_another_architecture(clip_checkpoint):
    from disreid.model.transfer import start_from

    model = build_model(small_config(), CAPTIONS)
    with pytest.raises(ValueError, match="is a clip model; this run builds a tiny one"):
        start_from(model, build_model(small_config("clip", checkpoint=str(clip_checkpoint))), "X")
    wider = build_model(small_config(image_encoder=dict(SMALL_VIT, hidden_size=64)), CAPTIONS)
    with pytest.raises(ValueError, match="tensors of X fit this run's model"):
        start_from(model, wider, "X")
