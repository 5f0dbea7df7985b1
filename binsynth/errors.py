"""Exception hierarchy.

Every error binsynth raises on bad input derives from :class:`BinsynthError` and from the
builtin that fits, so callers may catch either. The CLI turns a ``BinsynthError`` into a
one-line message and exit code 2.
"""


def reason(e: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none), for
    one-line errors that wrap a library's exception."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


class BinsynthError(Exception):
    """Root of binsynth's errors. The message is one line that names what is wrong."""


class ConfigError(BinsynthError, ValueError):
    """A parameter, flag or recipe field holds an invalid value."""


class GeometryError(BinsynthError, ValueError):
    """Impossible geometry: a source outside the room, a listener in a wall, …"""


class HRTFError(BinsynthError, ValueError):
    """A SOFA file or HRTF set that cannot be used (convention, fields, shapes)."""


class RegistryError(BinsynthError, LookupError):
    """An unknown HRTF registry entry, or one that cannot be fetched."""


class ChecksumError(BinsynthError, ValueError):
    """Downloaded or cached bytes whose SHA-256 differs from the registry's."""


class AudioFileError(BinsynthError, ValueError):
    """An audio file that is missing, unreadable or unusable."""


class PathError(BinsynthError, FileNotFoundError):
    """A path that does not exist or cannot be written."""


class BusyError(BinsynthError, RuntimeError):
    """A dataset folder another run is writing to right now."""


class StorageError(BinsynthError, OSError):
    """Writing the dataset failed (disk full, read-only, permissions, I/O error)."""


class WorkerError(BinsynthError, RuntimeError):
    """A render worker process or task died (killed, out of memory) and was not recovered."""


class RecipeError(ConfigError):
    """A recipe that cannot be used. ``problems`` holds one ``"field.path: message"`` line
    per problem; ``str(e)`` joins them with ``"; "`` (the CLI prints one per line)."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems) or ["recipe: invalid"]
        super().__init__("; ".join(self.problems))

    def __reduce__(self):  # keep ``problems`` through pickling (process pools, Ray)
        return (type(self), (self.problems,))
