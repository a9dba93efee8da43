"""The signals the units domain sends (confhub.core.signals)."""

from __future__ import annotations

from confhub.core.signals import Signal

# Provinces whose units were just inserted or refreshed, in the loader's transaction. Each
# receiver answers how many rows of its own it created for them (the load's report counts the
# connection points so created).
units_loaded: Signal[frozenset[int], int] = Signal("units.loaded")
