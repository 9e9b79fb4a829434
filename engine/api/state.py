"""What every request handler needs, built once per app (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.api.throttle import Throttles
from engine.clock import Clock
from engine.settings import Settings
from engine.store.db import Database


@dataclass
class AppState:
    db: Database
    settings: Settings
    clock: Clock
    secret: str
    throttles: Throttles = field(default_factory=Throttles)
