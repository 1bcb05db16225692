"""The web demo (Gradio, the `demo` extra): search an index by description from a browser."""

from disreid.demo.app import build_demo, launch

__all__ = ["build_demo", "launch"]
