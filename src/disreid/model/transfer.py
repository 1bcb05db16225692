"""Starting one model from another's weights: a model trained on SynthPedes starting a run on PETA.

Tensors are matched by name and shape. A word-level vocabulary (the `tiny` backbone's) is made from each
run's own captions, so the word embeddings are matched by word: the words both vocabularies hold keep
what the source learnt, the new words start fresh.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from disreid.model.disreid import DisReID

MIN_SHARE = 0.5  # of the tensors that must match for the source to count as the same architecture


@dataclass(frozen=True)
class Transfer:
    """What `start_from` carried over."""

    copied: int  # tensors copied whole
    tensors: int  # tensors of the model, but the word embeddings
    words_known: int  # words of the model's vocabulary whose embedding came from the source
    words: int
    fresh: list[str]  # tensors left as initialised: absent from the source, or of another shape

    def __str__(self) -> str:
        fresh = f"; left fresh: {', '.join(self.fresh)}" if self.fresh else ""
        words = f"the embeddings of {self.words_known} of its {self.words} words"
        return f"{self.copied} of {self.tensors} tensors and {words}{fresh}"


@torch.no_grad()
def start_from(model: DisReID, source: DisReID, source_name: str = "the source model") -> Transfer:
    """Copy into `model` every tensor of `source` with the same name and shape, and the embedding of every
    word both tokenizers know. Refuses a source of another backbone, or one of which fewer than half of
    the tensors fit: that is another architecture, and starting from it would start from nothing."""
    if source.config.backbone != model.config.backbone:
        kinds = f"{source.config.backbone} model; this run builds a {model.config.backbone} one"
        raise ValueError(f"{source_name} is a {kinds}")
    embeddings = model.text_encoder.model.get_input_embeddings().weight
    words = model.tokenizer.get_vocab()
    theirs = source.tokenizer.get_vocab()
    word_table = _name_of(model, embeddings)
    target, given = model.state_dict(), source.state_dict()
    copied, fresh = 0, []
    for name, tensor in target.items():
        if name == word_table:
            continue
        if name in given and given[name].shape == tensor.shape:
            tensor.copy_(given[name])
            copied += 1
        else:
            fresh.append(name)
    if copied < MIN_SHARE * (len(target) - 1):
        raise ValueError(
            f"only {copied} of {len(target) - 1} tensors of {source_name} fit this run's model: it was "
            "trained with another architecture (model.* settings)"
        )
    source_embeddings = given[word_table]
    shared = [(index, theirs[word]) for word, index in words.items() if word in theirs]
    if shared and source_embeddings.shape[1] == embeddings.shape[1]:
        mine, their_rows = zip(*shared, strict=True)
        embeddings[list(mine)] = source_embeddings[list(their_rows)]
    else:
        shared = []
    return Transfer(copied, len(target) - 1, len(shared), len(words), fresh)


def _name_of(model: DisReID, parameter: torch.nn.Parameter) -> str:
    return next(name for name, candidate in model.named_parameters() if candidate is parameter)
