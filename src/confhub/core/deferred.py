"""Modules Litestar imports at start that a serving process never uses, loaded on first use.

`litestar.app` imports `pdb` (for `pdb_on_exception`, a debugging setting) and
`litestar.openapi.plugins` imports PyYAML (for the YAML rendering of the schema, which confhub
does not serve: its only render plugin is `confhub.system.api_docs`). Every process would hold
them for its whole life (issue 20: about 1.4 MiB of each serving process). :func:`defer` puts a
stand-in in `sys.modules` before Litestar is imported; `import yaml` binds the stand-in, and its
first attribute read (`yaml.dump`, `from yaml import ...`, a submodule's import) imports the real
module, which then answers through the stand-in too. Nothing else changes: a process that uses
them gets them, a moment later.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

# Never used by serving, imported by Litestar's modules (see above).
SERVING_NEVER_USES = ("yaml", "pdb")

_lock = threading.RLock()


class DeferredModule(types.ModuleType):
    """A module's stand-in until one of its attributes is read."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_load(self), name)


def _load(stand_in: DeferredModule) -> types.ModuleType:
    name = stand_in.__name__
    with _lock:
        real = stand_in.__dict__.get("_deferred_real")
        if real is None:
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
            real = importlib.import_module(name)
            # What was bound to the stand-in (`import yaml` at a module's top) reads the real
            # module's names from now on without coming back here.
            stand_in.__dict__.update(real.__dict__)
            stand_in.__dict__["_deferred_real"] = real
        return real


def defer(*names: str) -> None:
    """Put a stand-in for each of `names` not imported yet (and installed) in `sys.modules`."""
    with _lock:
        for name in names:
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)
            if spec is None:
                continue  # not installed: `import` fails as it would have
            stand_in = DeferredModule(name)
            # What tools read without using the module (`inspect.getmodule` walks sys.modules
            # reading `__file__`), answered without loading it.
            stand_in.__spec__ = spec
            stand_in.__loader__ = spec.loader
            stand_in.__file__ = spec.origin
            stand_in.__package__ = spec.parent
            sys.modules[name] = stand_in


def is_loaded(name: str) -> bool:
    """Whether `name` was imported for real (not only deferred)."""
    module = sys.modules.get(name)
    if module is None:
        return False
    return not isinstance(module, DeferredModule) or "_deferred_real" in module.__dict__
