"""confhub: province-to-commune online conferences for Vietnamese local government."""

from confhub.core.deferred import SERVING_NEVER_USES, defer

__version__ = "0.1.0"

# Before any of confhub's modules imports Litestar (confhub.core.deferred).
defer(*SERVING_NEVER_USES)
