"""Caption text: splitting a caption into its identity and clothing parts."""

from disreid.text.splitter import Clause, split_caption, split_clauses

__all__ = ["Clause", "split_caption", "split_clauses"]
