"""AdvancedLoss and its parts, checked against values worked by hand."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from conftest import CAPTIONS, IMAGE_SIZE, small_config
from disreid.losses import (
    LOSS_KEYS,
    AdvancedLoss,
    LossWeights,
    RunningCrossCorrelation,
    adversary_ramp,
    consistency,
    hsic,
    info_nce,
    same_label,
)
from disreid.model import DisReIDOutput, build_model
from disreid.model.layers import grad_reverse


def test_hsic_matches_a_value_worked_by_hand():
    x = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    y = torch.tensor([[1.0], [2.0], [3.0], [5.0]])
    # Linear kernels: tr(KHLH) = ||Xc^T Yc||^2 with centred columns.
    # Xc = [-1.5, -0.5, 0.5, 1.5], Yc = [-1.75, -0.75, 0.25, 2.25]
    # Xc . Yc = 2.625 + 0.375 + 0.125 + 3.375 = 6.5  ->  6.5^2 / (4 - 1)^2 = 42.25 / 9
    assert hsic(x, y).item() == pytest.approx(42.25 / 9)


@pytest.mark.parametrize("kernel", ["linear", "correlation", "rbf"])
def test_hsic_separates_independent_from_dependent_features(kernel):
    generator = torch.Generator().manual_seed(0)
    x = F.normalize(torch.randn(256, 8, generator=generator), dim=1)
    independent = F.normalize(torch.randn(256, 8, generator=generator), dim=1)
    dependent = F.normalize(x + 0.1 * torch.randn(256, 8, generator=generator), dim=1)
    low, high = hsic(x, independent, kernel).item(), hsic(x, dependent, kernel).item()
    assert low < 0.1 * high
    # Independent features of a finite batch still correlate by chance: 8 x 8 squared correlations of
    # about 1/256 each, where the kernel standardises them; the others see that chance as next to nothing.
    chance = 8 * 8 / 256 if kernel == "correlation" else 0.0
    assert low == pytest.approx(chance, abs=0.05 if kernel == "correlation" else 0.01)


@pytest.mark.parametrize("kernel", ["linear", "correlation", "rbf"])
def test_hsic_does_not_depend_on_batch_order(kernel):
    x, y = torch.randn(16, 4), torch.randn(16, 4)
    order = torch.randperm(16)
    assert hsic(x[order], y[order], kernel).item() == pytest.approx(hsic(x, y, kernel).item(), rel=1e-5)


def test_correlation_hsic_is_the_sum_of_squared_correlations_whatever_the_scale():
    # x = [0, 1, 2, 3] and y = [0, 1, 3, 2]: centred, [-1.5, -0.5, 0.5, 1.5] and [-1.5, -0.5, 1.5, 0.5];
    # Pearson r = (2.25 + 0.25 + 0.75 + 0.75) / 5 = 0.8, and the criterion of one feature each is r^2.
    x, y = torch.tensor([[0.0], [1.0], [2.0], [3.0]]), torch.tensor([[0.0], [1.0], [3.0], [2.0]])
    assert hsic(x, y, "correlation").item() == pytest.approx(0.64, rel=1e-5)
    # A dependent feature scaled down a thousandfold counts as fully as before, unlike with the linear kernel.
    generator = torch.Generator().manual_seed(0)
    a, noise = torch.randn(256, 2, generator=generator), torch.randn(256, 1, generator=generator)
    full, small = (torch.cat([a[:, :1] * scale, noise], dim=1) for scale in (1.0, 1e-3))
    assert hsic(a, small, "correlation").item() == pytest.approx(
        hsic(a, full, "correlation").item(), rel=1e-4
    )
    assert hsic(a, small, "linear").item() < 0.01 * hsic(a, full, "linear").item()


def test_hsic_is_zero_below_two_samples():
    assert hsic(torch.randn(1, 4), torch.randn(1, 4)).item() == 0.0


def test_identity_aware_info_nce_matches_a_value_worked_by_hand():
    # Samples 0 and 1 are one person, sample 2 another; x_i . y_j = 1 if i == j else 0, tau = 0.1.
    # logits = 10 I. Rows 0 and 1 spread the target over {0, 1}; row 2 has the single target {2}.
    # L = log(e^10 + 2). Row 0: -(0.5 (10 - L) + 0.5 (0 - L)) = L - 5; row 1 alike; row 2: L - 10.
    # Mean = L - 20/3, and the text-to-image direction is the same by symmetry.
    x = y = torch.eye(3)
    positives = same_label(torch.tensor([7, 7, 9]))
    expected = math.log(math.exp(10) + 2) - 20 / 3
    assert info_nce(x, y, positives, temperature=0.1).item() == pytest.approx(expected, rel=1e-6)


def test_gradient_reversal_negates_the_gradient():
    x = torch.randn(5, requires_grad=True)
    weights = torch.randn(5)
    (x * weights).sum().backward()
    plain = x.grad.clone()
    x.grad = None
    (grad_reverse(x) * weights).sum().backward()
    torch.testing.assert_close(x.grad, -plain)
    assert torch.equal(grad_reverse(x), x)


def test_adversary_ramp():
    assert adversary_ramp(0) == pytest.approx(0.2)
    assert adversary_ramp(10) == pytest.approx(0.7)
    assert adversary_ramp(40) == 1.0


def fake_output(batch: int, embed: int = 8, classes: int = 3, equal: bool = False) -> DisReIDOutput:
    def unit() -> torch.Tensor:
        tensor = torch.ones(batch, embed) if equal else torch.randn(batch, embed)
        return F.normalize(tensor.requires_grad_(), dim=1)

    return DisReIDOutput(
        image=unit(),
        image_identity=unit(),
        image_clothing=unit(),
        text=unit(),
        text_identity=unit(),
        text_clothing=unit(),
        identity_logits=torch.randn(batch, classes, requires_grad=True),
        clothing_adversary=unit(),
        identity_adversary=unit(),
        gate=torch.sigmoid(torch.randn(batch, embed)),
    )


def test_loss_returns_every_term_and_their_weighted_sum():
    output = fake_output(4)
    everything = LossWeights(id_consistency=0.3, id_adv=0.7, text_decorrelation=0.5, image_decorrelation=0.2)
    losses = AdvancedLoss(everything, embed_dim=8)(
        output, torch.tensor([0, 0, 1, 2]), outfit_ids=torch.tensor([5, 6, 6, -1]), epoch=4
    )
    assert set(losses) == {*LOSS_KEYS, "total"}
    weights = everything
    adversaries = ("cloth_adv", "id_adv")
    expected = sum(getattr(weights, key) * losses[key] for key in LOSS_KEYS if key not in adversaries)
    expected = expected + sum(getattr(weights, key) * adversary_ramp(4) * losses[key] for key in adversaries)
    assert losses["total"].item() == pytest.approx(expected.item(), rel=1e-6)
    assert losses["gate_regularization"].item() == pytest.approx(
        F.mse_loss(output.gate, torch.full_like(output.gate, 0.5)).item()
    )


def test_image_decorrelation_holds_each_branch_to_the_other_detached():
    generator = torch.Generator().manual_seed(0)
    identity = torch.randn(16, 8, generator=generator, requires_grad=True)
    clothing = (identity.detach() + torch.randn(16, 8, generator=generator)).requires_grad_()
    output = dataclasses.replace(fake_output(16), image_identity=identity, image_clothing=clothing)
    loss_fn = AdvancedLoss(LossWeights(image_decorrelation=1.0), embed_dim=8)
    term = loss_fn(output, torch.arange(16) % 3)["image_decorrelation"]
    # On a first batch, each direction is the mean squared correlation between the two embeddings.
    expected = 2 * RunningCrossCorrelation(8, 8)(identity.detach(), clothing.detach())
    assert term.item() == pytest.approx(expected.item(), rel=1e-5)
    term.backward()
    assert identity.grad.abs().sum() > 0 and clothing.grad.abs().sum() > 0
    # Its running correlations are kept (and saved) only where it is weighed.
    assert "identity_vs_clothing_image.correlation" in loss_fn.state_dict()
    assert "identity_vs_clothing_image.correlation" not in AdvancedLoss(embed_dim=8).state_dict()


def test_consistency_matches_a_value_worked_by_hand():
    # a and b are one person's images, c the only image of another: c has no positive and is left out.
    # Row a (and row b): its own score masked, e^1 for its positive against e^0 for c.
    x = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    loss = consistency(x, torch.tensor([7, 7, 3]), temperature=1.0)
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-1)), rel=1e-6)
    # With outfits known, a and b in the same outfit leave each other out: no row has a positive left.
    assert consistency(x, torch.tensor([7, 7, 3]), torch.tensor([1, 1, 2])).item() == 0.0
    # d is a's person in another outfit: a's row scores d (e^0) against c (e^0), b being left out.
    x = torch.cat([x, torch.tensor([[0.0, 1.0]])])
    persons, outfits = torch.tensor([7, 7, 3, 7]), torch.tensor([1, 1, 2, 4])
    rows = [math.log(2), math.log(2), math.log(2 + math.e)]  # a, b; d: half its target on a, half on b
    loss = consistency(x, persons, outfits, temperature=1.0)
    assert loss.item() == pytest.approx(sum(rows) / 3, rel=1e-6)


def test_consistency_prefers_an_embedding_that_ignores_the_outfit():
    # Two persons, each in two outfits; outfit 0 is worn by both. Embedding by outfit scores worse.
    persons, outfits = torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 0, 2])
    by_person = F.normalize(torch.eye(3)[persons], dim=1)
    by_outfit = F.normalize(torch.eye(3)[outfits], dim=1)
    assert consistency(by_person, persons) < 0.01 < consistency(by_outfit, persons)


def test_switched_off_terms_do_not_count():
    output = fake_output(4)
    only_info_nce = LossWeights(**{key: 0.0 for key in LOSS_KEYS} | {"info_nce": 1.0})
    losses = AdvancedLoss(only_info_nce)(output, torch.tensor([0, 1, 2, 0]))
    assert losses["total"].item() == pytest.approx(losses["info_nce"].item())


def test_mismatched_clothing_captions_become_negatives():
    output = fake_output(3)
    person_ids = torch.arange(3)
    matched = AdvancedLoss()(output, person_ids)["cloth_match"]
    swapped = AdvancedLoss()(output, person_ids, is_matched=torch.tensor([1, 1, 0]))["cloth_match"]
    # With caption 2 nobody's positive, image 2 has no positive and text 2 is only a negative.
    logits = output.image_clothing @ output.text_clothing.t() / 0.1
    expected = (
        F.cross_entropy(logits[:2], torch.tensor([0, 1]))
        + F.cross_entropy(logits.t()[:2], torch.tensor([0, 1]))
    ) / 2
    assert swapped.item() == pytest.approx(expected.item(), rel=1e-5)
    assert swapped.item() != pytest.approx(matched.item())


def test_a_full_caption_matches_its_own_outfit_where_outfits_are_known():
    """Person 0 wears outfit 5 in samples 0 and 1 and outfit 6 in sample 2: for info_nce sample 2 is
    not a positive of samples 0 and 1 (their captions describe outfit 5), while bio, which compares
    identity parts, keeps all three together. Unknown outfits (-1) fall back to the person."""
    output = fake_output(4)
    person_ids = torch.tensor([0, 0, 0, 1])
    described = torch.tensor([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=torch.bool)
    losses = AdvancedLoss()(output, person_ids, outfit_ids=torch.tensor([5, 5, 6, 7]))
    assert losses["info_nce"].item() == pytest.approx(info_nce(output.image, output.text, described).item())
    assert losses["info_nce"].item() != pytest.approx(
        info_nce(output.image, output.text, same_label(person_ids)).item()
    )
    unknown = AdvancedLoss()(output, person_ids, outfit_ids=torch.full((4,), -1))["info_nce"]
    assert unknown.item() == pytest.approx(info_nce(output.image, output.text, same_label(person_ids)).item())


@pytest.mark.parametrize(
    ("batch", "person_ids", "equal"),
    [(1, [0], False), (4, [1, 1, 1, 1], False), (4, [0, 1, 2, 0], True)],
    ids=["batch-of-one", "one-identity", "all-equal-embeddings"],
)
def test_no_nan_or_inf(batch, person_ids, equal):
    output = fake_output(batch, equal=equal)
    losses = AdvancedLoss(hsic_kernel="rbf" if equal else "linear")(output, torch.tensor(person_ids))
    for key, value in losses.items():
        assert torch.isfinite(value), key
    losses["total"].backward()
    assert torch.isfinite(output.identity_logits.grad).all()


def tiny_batch(model_size: int = 8):
    torch.manual_seed(0)
    pixels = torch.randn(model_size, 3, *IMAGE_SIZE)
    captions = [CAPTIONS[i % 4] for i in range(model_size)]
    return pixels, captions, torch.tensor([i % 4 for i in range(model_size)])


def test_model_batch_of_one_gives_finite_losses():
    model = build_model(small_config(), CAPTIONS).train()
    output = model(torch.randn(1, 3, *IMAGE_SIZE), CAPTIONS[:1], CAPTIONS[1:2], CAPTIONS[2:3])
    losses = AdvancedLoss()(output, torch.tensor([2]), outfit_ids=torch.tensor([0]))
    assert all(torch.isfinite(value) for value in losses.values())


def test_fifty_steps_on_a_fixed_batch_halve_the_total_loss():
    torch.manual_seed(0)
    model = build_model(small_config(), CAPTIONS).train()
    loss_fn = AdvancedLoss()
    pixels, captions, person_ids = tiny_batch()
    outfit_ids = person_ids + 10
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    totals = []
    for step in range(50):
        output = model(pixels, captions, captions, captions)
        total = loss_fn(output, person_ids, outfit_ids=outfit_ids, epoch=step / 10)["total"]
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        totals.append(total.item())
    assert totals[-1] <= 0.5 * totals[0], totals


def test_caption_parts_left_out_are_not_encoded_and_their_terms_must_be_off():
    model = build_model(small_config(), CAPTIONS).train()
    pixels, captions, person_ids = tiny_batch(4)
    output = model(pixels, captions)
    assert output.text_identity is None and output.text_clothing is None
    baseline = LossWeights(**{**dict.fromkeys(LOSS_KEYS, 0.0), "info_nce": 1.0})
    assert not baseline.use_identity_captions and not baseline.use_clothing_captions
    losses = AdvancedLoss(baseline)(output, person_ids)
    assert losses["bio"] == losses["cloth"] == 0 and losses["total"] == losses["info_nce"] > 0
    with pytest.raises(ValueError, match="loss terms bio, cloth, cloth_adv, cloth_match need caption parts"):
        AdvancedLoss()(output, person_ids)
    # The full caption's embedding does not depend on which parts were encoded beside it.
    with torch.no_grad():
        both = model(pixels, captions, captions, captions)
    assert torch.allclose(both.text, output.text.detach(), atol=1e-6)


def test_running_cross_correlation_is_the_mean_squared_correlation_on_the_first_batch():
    x = torch.tensor([[1.0, 1.0], [2.0, 0.0], [3.0, 0.0], [4.0, 1.0]])
    y = torch.tensor([[2.0], [4.0], [6.0], [8.0]])  # y = 2 x_0: correlation 1 with x_0, 0 with x_1
    assert RunningCrossCorrelation(2, 1)(x, y).item() == pytest.approx(0.5, rel=1e-5)


def test_running_cross_correlation_sees_a_weak_dependence_that_one_batch_cannot():
    generator = torch.Generator().manual_seed(0)
    independent, dependent = RunningCrossCorrelation(16, 16), RunningCrossCorrelation(16, 16)
    for _ in range(200):
        x = torch.randn(64, 16, generator=generator)
        y = torch.randn(64, 16, generator=generator)
        weak = y.clone()
        weak[:, 0] += 0.3 * x[:, 0]  # a correlation of 0.29 in one pair of 256
        independent(x, y), dependent(x, weak)
    # One batch of 64 puts about 256 / 64 = 4 of noise into the sum; the running estimate about 0.1.
    assert independent.correlation.pow(2).sum() < 0.5
    assert dependent.correlation[0, 0] == pytest.approx(0.29, abs=0.05)


def test_canonical_cross_correlation_sees_a_signal_spread_over_features_that_pairs_miss():
    generator = torch.Generator().manual_seed(0)
    signal = torch.randn(4096, 1, generator=generator)
    nuisance = 2 * torch.randn(4096, 1, generator=generator)
    x = torch.cat([signal + nuisance, nuisance], dim=1)  # x_0 - x_1 is the signal itself
    pairwise = RunningCrossCorrelation(2, 1)(x, signal).item()
    canonical = RunningCrossCorrelation(2, 1, measure="canonical", ridge=0.0)(x, signal).item()
    # By hand: corr(x_0, y) = 1 / sqrt(1 + 4), corr(x_1, y) = 0, so the mean of the squares is 0.1;
    # a linear combination reads y exactly, a canonical correlation of 1.
    assert pairwise == pytest.approx(0.1, abs=0.01)
    assert canonical == pytest.approx(1.0, abs=0.01)
    # The ridge keeps a direction of small variance from counting in full: x's smaller eigenvalue is
    # 1 - 2 / sqrt(5) = 0.106, so a ridge of 0.01 keeps about 0.106 / 0.116 of it.
    ridged = RunningCrossCorrelation(2, 1, measure="canonical", ridge=0.01)(x, signal).item()
    assert 0.8 < ridged < 0.95


@pytest.mark.parametrize("measure", ["pairwise", "canonical"])
def test_text_decorrelation_removes_what_a_linear_probe_reads_from_the_other_part(measure: str):
    generator = torch.Generator().manual_seed(0)
    weights = torch.randn(8, 8, generator=generator, requires_grad=True)
    term = RunningCrossCorrelation(8, 8, measure=measure)
    optimizer = torch.optim.SGD([weights], lr=5.0)
    inputs, text = torch.randn(512, 8, generator=generator), torch.randn(512, 8, generator=generator)
    inputs[:, :4] += text[:, :4]  # the input carries the other part's text in half its features

    def correlation_with_text() -> float:
        features = inputs @ weights
        features = (features - features.mean(0)) / features.std(0)
        standard = (text - text.mean(0)) / text.std(0)
        return (features.t() @ standard / len(text)).pow(2).sum().item()

    before = correlation_with_text()
    for step in range(300):
        rows = slice(64 * (step % 8), 64 * (step % 8 + 1))
        loss = term(inputs[rows] @ weights, text[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert before > 1.0
    assert correlation_with_text() < 0.2 * before
