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


class ElementError(XanesError):
    """An element the model has no channel for, or a symbol that is not an element."""


class RunError(XanesError):
    """A training run folder is missing, incomplete or cannot be used as asked."""


class SourceError(XanesError):
    """An external data source (Materials Project, a label catalogue) failed or refused."""
