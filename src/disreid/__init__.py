"""disreid: text-to-person retrieval with identity/clothing disentanglement."""

__version__ = "0.1.0"
