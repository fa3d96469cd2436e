"""The notify function's environment, read once per container (see libs.settings)."""

from __future__ import annotations

import dataclasses

from libs.settings import CommonSettings, env_field


@dataclasses.dataclass(frozen=True, kw_only=True)
class NotifySettings(CommonSettings):
    """Who gets the text: the stage's `admin_phone` (E.164), set by the stack as ADMIN_PHONE."""

    admin_phone: str = env_field("ADMIN_PHONE")
