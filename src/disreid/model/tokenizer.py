"""A word-level tokenizer built from a list of texts, for the `tiny` backbone (no download needed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from disreid.text.spelling import spelling_normalizers

SPECIAL_TOKENS = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]"}


def build_word_tokenizer(
    texts: Iterable[str], min_frequency: int = 1, respell: bool = True
) -> PreTrainedTokenizerFast:
    """Lower-cased, respelled (`disreid.text.spelling`) words and punctuation of `texts` that occur
    `min_frequency` times or more, plus [PAD], [UNK], [CLS] and [SEP]; every encoding reads `[CLS] words
    [SEP]`. The tokenizer respells what it reads itself, so that "gray" and "grey" are one word (unless
    `respell` is False)."""
    spellings = spelling_normalizers() if respell else []
    normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase(), *spellings])
    pre_tokenizer = pre_tokenizers.Whitespace()
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(word for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))
    words = sorted(word for word, count in counts.items() if count >= min_frequency)
    vocab = {token: index for index, token in enumerate([*SPECIAL_TOKENS.values(), *words])}

    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token=SPECIAL_TOKENS["unk_token"]))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, **SPECIAL_TOKENS)
