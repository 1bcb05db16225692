"""disreid: text-to-person retrieval with identity/clothing disentanglement."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version(__name__)  # pyproject.toml is the one place the version is written
except PackageNotFoundError:  # a source tree on the path, not installed
    __version__ = "unknown"
