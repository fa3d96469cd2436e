"""The one origin whose pages may read the API's answers (CORS), as the stack configured it.

The stack sets `CORS_ORIGIN` on every API function: the stage variable `cors_origin` (the stage's
web app), else the API's own origin. Never `*`, never an echo of whatever page asked.
"""

from __future__ import annotations

import os

NO_PAGE = "https://localhost.invalid"  # an origin no page has: nothing cross-origin may read the answers


def cors_origin() -> str:
    return os.environ.get("CORS_ORIGIN") or NO_PAGE
