"""gitsnap: a platform's configuration, versioned in a bare git repository."""

from .errors import Conflict, GitsnapError, InvalidInput, NotFound, RepositoryError

__version__ = "0.1.0"


def __getattr__(name: str):
    """``Store`` is imported on first use, so the CLI's --help and --version need neither pydantic nor dulwich."""
    if name == "Store":
        from .store import Store

        return Store
    raise AttributeError(f"module 'gitsnap' has no attribute {name!r}")
__all__ = ["Store", "GitsnapError", "InvalidInput", "NotFound", "Conflict", "RepositoryError", "__version__"]
