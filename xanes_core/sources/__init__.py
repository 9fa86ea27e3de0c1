"""Layer 3, sources: datasets built from outside data: topology label catalogues, the Materials
Project, and a user's own spectrum files.

``labels`` reads a catalogue into one table; ``materials_project`` turns that table plus the
Materials Project's K-edge XANES into a :class:`~xanes_core.data.dataset.XanesDataset` (network
access only through the official ``mp_api`` client, opened by ``mp_client``; ``api_key`` decides
which endpoint may receive the server's key); ``build_job`` runs that build in the background;
``local_files`` builds a dataset from a manifest of spectrum files (``build-dataset``).
"""
