"""Layer 3, sources: external data: topology label catalogues and Materials Project ingestion.

``labels`` reads a catalogue into one table; ``materials_project`` turns that table plus the
Materials Project's K-edge XANES into a :class:`~xanes_core.data.dataset.XanesDataset`; ``cli`` is
the hook behind ``python -m xanes_core fetch-mp``. Network access lives only in
``materials_project`` (through the official ``mp_api`` client).
"""
