"""AdvancedLoss: every training objective of the design (SPEC §4), as plain functions of tensors."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from disreid.model.disreid import DisReIDOutput

LOSS_KEYS = (
    "info_nce",
    "cls",
    "bio",
    "cloth",
    "cloth_adv",
    "cloth_match",
    "decouple",
    "gate_regularization",
    "id_consistency",
    "id_adv",
    "text_decorrelation",
    "image_decorrelation",
)
DECORRELATION_MEASURES = ("pairwise", "canonical")  # how `RunningCrossCorrelation` reads a dependence
IDENTITY_TEXT_TERMS = ("bio", "id_adv", "text_decorrelation")  # the terms that read t_id
CLOTHING_TEXT_TERMS = ("cloth", "cloth_adv", "cloth_match", "text_decorrelation")  # and t_cl


@dataclass
class LossWeights:
    """Weight of each term in `total`; 0 switches a term off (for ablations and the baseline)."""

    info_nce: float = 1.0
    cls: float = 1.0
    bio: float = 0.5
    cloth: float = 0.5
    cloth_adv: float = 0.1
    cloth_match: float = 1.0
    decouple: float = 0.2
    gate_regularization: float = 0.01
    # Beyond the design, off by default (docs/experiments.md, "Identity across clothes"):
    id_consistency: float = 0.0  # v_id of one person agrees across its images, whatever the outfit
    id_adv: float = 0.0  # the mirror of cloth_adv: identity text read out of v_cl, reversed
    # v_id uncorrelated with the clothing text and v_cl with the identity text, pair by pair of features or
    # as a probe combining them reads it (`train.decorrelation`), over recent batches
    # (`RunningCrossCorrelation`)
    text_decorrelation: float = 0.0
    # the same between v_id and v_cl of one image, each against the other detached: the clothing embedding
    # holds what the caption leaves unsaid (`RunningCrossCorrelation` keeps chance correlations out)
    image_decorrelation: float = 0.0

    @property
    def use_identity_captions(self) -> bool:
        return any(getattr(self, key) for key in IDENTITY_TEXT_TERMS)

    @property
    def use_clothing_captions(self) -> bool:
        return any(getattr(self, key) for key in CLOTHING_TEXT_TERMS)


def same_label(labels: torch.Tensor) -> torch.Tensor:
    """`[B, B]` boolean matrix: true where two samples share a label."""
    return labels.unsqueeze(0) == labels.unsqueeze(1)


def soft_cross_entropy(logits: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each row's softmax against a target spread evenly over its positives.

    Rows without any positive carry no signal and are left out; with none left the loss is 0.
    """
    counts = positives.sum(dim=1)
    rows = counts > 0
    if not rows.any():
        return (logits * 0.0).sum()  # not logits.sum() * 0: a masked logit would overflow to -inf
    targets = positives[rows].to(logits.dtype) / counts[rows].unsqueeze(1)
    return -(targets * F.log_softmax(logits[rows], dim=1)).sum(dim=1).mean()


def info_nce(
    x: torch.Tensor,
    y: torch.Tensor,
    positives: torch.Tensor,
    temperature: float = 0.1,
    symmetric: bool = True,
) -> torch.Tensor:
    """InfoNCE between normalised `x` and `y` `[B, E]`; `positives[i, j]` marks (x_i, y_j) as a match.

    Identity-aware when `positives = same_label(person_ids)`: two images of one person are never pushed
    apart as a negative pair.
    """
    logits = x @ y.t() / temperature
    loss = soft_cross_entropy(logits, positives)
    if symmetric:
        loss = (loss + soft_cross_entropy(logits.t(), positives.t())) / 2
    return loss


def hsic(
    x: torch.Tensor, y: torch.Tensor, kernel: str = "linear", sigma: float | None = None
) -> torch.Tensor:
    """Centred Hilbert-Schmidt independence criterion `tr(K H L H) / (n - 1)^2` over the batch.

    0 when the two sets of features are independent; 0 for n < 2, where it is undefined. The RBF kernel
    uses `sigma`, or the median pairwise distance when not given. The correlation kernel is the linear
    one on features standardised over the batch, so that the criterion is the sum of squared correlations
    between every feature of `x` and every feature of `y`: a dependence carried by a feature of small
    variance counts as much as one of large variance, as it does for a linear probe on standardised
    features, which the plain linear kernel barely sees.
    """
    n = x.shape[0]
    if n < 2:
        return x.sum() * 0.0 + y.sum() * 0.0
    gram_x, gram_y = _gram(x, kernel, sigma), _gram(y, kernel, sigma)
    centring = torch.eye(n, dtype=x.dtype, device=x.device) - 1.0 / n
    return torch.trace(gram_x @ centring @ gram_y @ centring) / (n - 1) ** 2


def _gram(x: torch.Tensor, kernel: str, sigma: float | None) -> torch.Tensor:
    if kernel == "linear":
        return x @ x.t()
    if kernel == "correlation":
        x = (x - x.mean(dim=0)) / x.std(dim=0).clamp_min(1e-6)
        return x @ x.t()
    if kernel == "rbf":
        distances = torch.cdist(x, x).pow(2)
        if sigma is None:
            off_diagonal = distances[~torch.eye(len(x), dtype=torch.bool, device=x.device)]
            bandwidth = off_diagonal.detach().median().clamp_min(1e-6)
        else:
            bandwidth = torch.tensor(2 * sigma**2, dtype=x.dtype, device=x.device)
        return torch.exp(-distances / bandwidth)
    raise ValueError(f"unknown kernel {kernel!r}: use 'linear', 'correlation' or 'rbf'")


class RunningCrossCorrelation(nn.Module):
    """How much of `y` a linear read of `x` finds, estimated over recent batches.

    A linear probe reads a factor from standardised features wherever their class means differ, that is
    wherever the features correlate with the factor. Held to the text of the other part (v_cl against
    t_id, whose features carry the identity factors a caption states), this term removes what such a
    probe would find, with no factor labels. One batch of 64 estimates 64 × 64 correlations too noisily
    to steer by (the correlation kernel of `hsic`), so the direction comes from a running average of the
    batches' correlation matrices while the gradient flows through the current batch's, as
    `R_running * R_batch`. `R_batch` is standardised with the batch's own moments, so that
    it stays a correlation, within [-1, 1], whatever the features' scale.

    `measure="pairwise"` averages the squared correlation of every pair of features. It misses what a
    probe sees when many features each correlate a little and together a lot: a probe combines them.
    `measure="canonical"` first whitens each side with its running correlation matrix (a ridge of
    `ridge` keeps near-constant directions from being blown up), so that the term is the mean squared
    canonical correlation: the share of `y` that the best linear combination of `x` explains.
    """

    def __init__(
        self,
        dim_x: int,
        dim_y: int,
        momentum: float = 0.98,
        measure: str = "pairwise",
        ridge: float = 0.01,
    ) -> None:
        super().__init__()
        if measure not in DECORRELATION_MEASURES:
            raise ValueError(f"unknown measure {measure!r}: use one of {', '.join(DECORRELATION_MEASURES)}")
        self.momentum = momentum
        self.measure = measure
        self.ridge = ridge
        self.register_buffer("correlation", torch.zeros(dim_x, dim_y))
        self.register_buffer("batches", torch.zeros((), dtype=torch.long))
        if measure == "canonical":  # each side's own correlations, to whiten it with
            self.register_buffer("correlation_x", torch.eye(dim_x))
            self.register_buffer("correlation_y", torch.eye(dim_y))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if len(x) < 2:
            return x.sum() * 0.0 + y.sum() * 0.0
        x, y = _standardise(x), _standardise(y)
        batch = x.t() @ y / len(x)
        with torch.no_grad():  # the first batch sets the averages; later ones move them
            step = 1 - self.momentum if self.batches > 0 else 1.0
            self.correlation.lerp_(batch.float(), step)
            if self.measure == "canonical":
                self.correlation_x.lerp_((x.t() @ x / len(x)).float(), step)
                self.correlation_y.lerp_((y.t() @ y / len(y)).float(), step)
            self.batches += 1
        if self.measure == "pairwise":
            return (self.correlation * batch).mean()
        whiten_x = _inverse_sqrt(self.correlation_x, self.ridge).to(batch.dtype)
        whiten_y = _inverse_sqrt(self.correlation_y, self.ridge).to(batch.dtype)
        running = whiten_x @ self.correlation.to(batch.dtype) @ whiten_y
        return (running * (whiten_x @ batch @ whiten_y)).sum() / min(batch.shape)


def _inverse_sqrt(matrix: torch.Tensor, ridge: float) -> torch.Tensor:
    """`(matrix + ridge · I)^(-1/2)` of a symmetric positive semi-definite matrix."""
    values, vectors = torch.linalg.eigh(matrix)
    return vectors @ torch.diag((values.clamp_min(0) + ridge).rsqrt()) @ vectors.t()


def _standardise(x: torch.Tensor) -> torch.Tensor:
    """Each feature to mean 0 and variance 1 over the batch (a constant feature stays 0)."""
    return (x - x.mean(dim=0)) / x.std(dim=0, correction=0).clamp_min(1e-6)


def consistency(
    x: torch.Tensor,
    person_ids: torch.Tensor,
    outfit_ids: torch.Tensor | None = None,
    temperature: float = 0.1,
) -> torch.Tensor:
    """Image-to-image identity-aware InfoNCE over the batch: each embedding's positives are the images of
    its person in other outfits (any other image of its person where outfits are unknown). Images of the
    same person in the same outfit are left out of the row, neither positive nor negative: matching them
    would reward the clothes."""
    own = torch.eye(len(x), dtype=torch.bool, device=x.device)
    same_person = same_label(person_ids)
    same_outfit = own
    if outfit_ids is not None:
        same_outfit = own | (same_person & same_label(outfit_ids) & outfit_known(outfit_ids))
    logits = x @ x.t() / temperature
    logits = logits.masked_fill(same_outfit, torch.finfo(logits.dtype).min)  # not -inf: 0 * -inf is nan
    return soft_cross_entropy(logits, same_person & ~same_outfit)


def adversary_ramp(epoch: float) -> float:
    """The clothing adversary's weight grows from 0.2 to 1 over the first 16 epochs."""
    return min(1.0, 0.2 + 0.05 * epoch)


class AdvancedLoss(nn.Module):
    """The weighted sum of the design's objectives. `forward` returns every term, unweighted, and
    `total`. It holds no parameters: every head it trains lives in the model, so the optimizer sees it;
    its buffers (running correlations) travel with the trainer's checkpoint."""

    def __init__(
        self,
        weights: LossWeights | dict | None = None,
        temperature: float = 0.1,
        hsic_kernel: str = "linear",
        embed_dim: int = 512,
        decorrelation: str = "pairwise",
    ) -> None:
        super().__init__()
        if isinstance(weights, dict):
            weights = LossWeights(**weights)
        self.weights = weights or LossWeights()
        self.temperature = temperature
        self.hsic_kernel = hsic_kernel
        # Running correlations of v_id with t_cl and of v_cl with t_id: buffers, saved with a checkpoint.
        running = partial(RunningCrossCorrelation, embed_dim, embed_dim, measure=decorrelation)
        self.identity_vs_clothing_text, self.clothing_vs_identity_text = running(), running()
        if self.weights.image_decorrelation:  # only then: checkpoints of runs without it stay loadable
            self.identity_vs_clothing_image, self.clothing_vs_identity_image = running(), running()

    def forward(
        self,
        output: DisReIDOutput,
        person_ids: torch.Tensor,
        labels: torch.Tensor | None = None,
        outfit_ids: torch.Tensor | None = None,
        is_matched: torch.Tensor | None = None,
        epoch: float = 0,
    ) -> dict[str, torch.Tensor]:
        """`person_ids` `[B]` decide who is a positive of whom; `labels` are their class indices for
        `cls` (default: `person_ids`); `outfit_ids` `[B]` (negative: unknown) make same-outfit pairs
        positives for the clothing terms; `is_matched` `[B]` (0: the clothing caption was deliberately
        swapped for another outfit's) turns those pairs into negatives in `cloth_match`."""
        tau = self.temperature
        same_person = same_label(person_ids)
        clothing_positives = self._clothing_positives(person_ids, outfit_ids)
        # A full caption describes the person in one outfit: where outfits are known, an image of the same
        # person in other clothes does not fit it (and it is `bio`'s job to bring those together).
        described = same_person
        if outfit_ids is not None:
            described = same_person & (clothing_positives | ~outfit_known(outfit_ids))
        matched_positives = clothing_positives
        if is_matched is not None:  # a swapped caption is nobody's positive
            matched_positives = clothing_positives & is_matched.bool().unsqueeze(0)
        zero = output.image.sum() * 0.0
        gate = output.gate
        text_identity, text_clothing = output.text_identity, output.text_clothing
        absent = (IDENTITY_TEXT_TERMS if text_identity is None else ()) + (
            CLOTHING_TEXT_TERMS if text_clothing is None else ()
        )
        missing = [key for key in absent if getattr(self.weights, key)]
        if missing:
            raise ValueError(f"loss terms {', '.join(missing)} need caption parts that were not given")

        terms = dict.fromkeys(LOSS_KEYS, zero)
        terms["info_nce"] = info_nce(output.image, output.text, described, tau)
        terms["decouple"] = hsic(output.image_identity, output.image_clothing, self.hsic_kernel)
        if gate is not None:
            terms["gate_regularization"] = F.mse_loss(gate, torch.full_like(gate, 0.5))
        if text_identity is not None:
            terms["bio"] = info_nce(output.image_identity, text_identity, same_person, tau)
        if text_clothing is not None:
            terms["cloth"] = info_nce(
                output.image_clothing, text_clothing, matched_positives, tau, symmetric=False
            )
            terms["cloth_match"] = info_nce(output.image_clothing, text_clothing, matched_positives, tau)
            if output.clothing_adversary is not None:
                # The adversary learns to read clothing text out of v_id; the text side is not trained by it.
                terms["cloth_adv"] = info_nce(
                    output.clothing_adversary, text_clothing.detach(), clothing_positives, tau
                )
        if text_identity is not None and output.identity_adversary is not None:
            terms["id_adv"] = info_nce(output.identity_adversary, text_identity.detach(), same_person, tau)
        if self.weights.text_decorrelation and text_identity is not None and text_clothing is not None:
            # The text is the anchor, not a party to it: detached, so it cannot drift away from the image.
            terms["text_decorrelation"] = self.identity_vs_clothing_text(
                output.image_identity, text_clothing.detach()
            ) + self.clothing_vs_identity_text(output.image_clothing, text_identity.detach())
        if self.weights.image_decorrelation:
            identity, clothing = output.image_identity, output.image_clothing
            terms["image_decorrelation"] = self.identity_vs_clothing_image(
                identity, clothing.detach()
            ) + self.clothing_vs_identity_image(clothing, identity.detach())
        if self.weights.id_consistency:
            terms["id_consistency"] = consistency(output.image_identity, person_ids, outfit_ids, tau)
        if output.identity_logits is not None:
            terms["cls"] = F.cross_entropy(output.identity_logits, person_ids if labels is None else labels)

        weights = asdict(self.weights)
        weights["cloth_adv"] *= adversary_ramp(epoch)
        weights["id_adv"] *= adversary_ramp(epoch)
        # Every term enters, a switched-off one times 0: under DistributedDataParallel every head the model
        # ran (an adversary whose term is off) must be in the graph, or the backward pass stops.
        terms["total"] = zero + sum(weights[key] * terms[key] for key in LOSS_KEYS)
        return terms

    @staticmethod
    def _clothing_positives(person_ids: torch.Tensor, outfit_ids: torch.Tensor | None) -> torch.Tensor:
        """Same outfit where outfit labels exist; otherwise a sample matches only its own caption."""
        own = torch.eye(len(person_ids), dtype=torch.bool, device=person_ids.device)
        return own if outfit_ids is None else own | (same_label(outfit_ids) & outfit_known(outfit_ids))


def outfit_known(outfit_ids: torch.Tensor) -> torch.Tensor:
    """`[B, B]` boolean matrix: true where both samples carry an outfit label (ids < 0 are unknown)."""
    known = outfit_ids >= 0
    return known.unsqueeze(0) & known.unsqueeze(1)
