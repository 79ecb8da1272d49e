"""Awareness and uptake (docs/model.md, "Awareness and uptake").

The thinning bounds of the candidate processes for awareness through channels and the
decision to enrol.
"""

from __future__ import annotations

#: ``1 - exp(-x)`` computed in floating point is at most ``x (1 + 2.3e-16)``; a draw at or
#: above ``x * REJECT_MARGIN`` is certainly rejected, so p need not be computed.
REJECT_MARGIN = 1.0 + 1e-12


#: A hazard may exceed its bounding rate by rounding only.
BOUND_SLACK = 1.0 + 1e-9
