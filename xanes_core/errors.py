"""The one exception family for problems a user can fix.

Pages show these with ``st.error``; the CLI prints the message on one line and exits
with code 2. Anything else escaping the package is a bug, not a user error.
"""

from __future__ import annotations


class XanesError(Exception):
    """A problem with the user's input, files or request, worded for a scientist."""


class DatasetError(XanesError):
    """A dataset on disk is missing, corrupt, foreign or of an unknown schema version."""


class SpectrumError(XanesError):
    """A spectrum file or array cannot be read or used (format, values, edge, element)."""


class ColumnChoiceNeeded(SpectrumError):
    """A column file's energy and mu columns are ambiguous: the person must choose them.

    Typed (not recognized by its wording) so that a caller can ask the question;
    ``labels`` are every column label of the file, to choose from.
    """

    def __init__(self, message: str, labels: list[str] | tuple[str, ...]) -> None:
        super().__init__(message)
        self.labels: tuple[str, ...] = tuple(labels)


class ElementNeeded(SpectrumError):
    """Neither the file nor its edge energy says which element absorbs: the person must say."""


class ElementError(XanesError):
    """An element the model has no channel for, or a symbol that is not an element."""


class RunError(XanesError):
    """A training run folder is missing, incomplete or cannot be used as asked."""


class SourceError(XanesError):
    """An external data source (Materials Project, a label catalogue) failed or refused."""
