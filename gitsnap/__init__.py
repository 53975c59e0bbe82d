"""gitsnap: a platform's configuration, versioned in a bare git repository."""

from .errors import Conflict, GitsnapError, InvalidInput, NotFound, RepositoryError
from .store import Store

__version__ = "0.1.0"
__all__ = ["Store", "GitsnapError", "InvalidInput", "NotFound", "Conflict", "RepositoryError", "__version__"]
