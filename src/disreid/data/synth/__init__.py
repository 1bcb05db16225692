"""SynthPedes: a pedestrian data set drawn on the fly, with identity and clothing ground truth.

Real text-to-person data sets cannot be downloaded on a fresh machine; SynthPedes is made from a seed
in seconds and is the default for the quickstart, the tests and CPU experiments. Each person keeps
their identity (body, skin, hair, face) across several outfits, some outfits are worn by two persons
and some persons are look-alikes, so a model that reads clothing instead of identity loses when clothes
change. It is written in the CUHK-PEDES record format, with outfit ids and factors added.
"""

from disreid.data.synth.generate import ANNOTATIONS, MANIFEST, VERSION, SynthSummary, generate_synthpedes
from disreid.data.synth.preview import make_preview

__all__ = ["ANNOTATIONS", "MANIFEST", "VERSION", "SynthSummary", "generate_synthpedes", "make_preview"]
