"""Helpers for web tests: an app on a seeded database, with one token per role."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from engine.api.app import create_app
from engine.clock import VirtualClock
from engine.settings import Settings, load_settings
from engine.store.db import Database
from engine.workspace import tokens
from tests.support.seed import Scenario, day, seed_scenario

with warnings.catch_warnings():
    # Starlette 1.x prefers the `httpx2` package for its TestClient and warns when it is given
    # plain httpx, which works the same for our purposes.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

__all__ = ["SeededApp", "TestClient", "seeded_app"]

SECRET = "test-secret-key-for-unsubscribe-and-sessions"


@dataclass
class SeededApp:
    app: FastAPI
    db: Database
    clock: VirtualClock
    settings: Settings
    scenario: Scenario
    tokens: dict[str, str]  # role (sdr = anna) -> secret token


def seeded_app(db: Database, home: Path) -> SeededApp:
    scenario = seed_scenario(db)
    clock = VirtualClock(day(7, 12))  # Monday of week 2: p6's and p7's calls are due today
    settings = load_settings(home=home, secret_key=SECRET, database_url=db.url)
    made: dict[str, str] = {}
    with db.session() as s:
        for role in tokens.ROLES:
            owner = "anna" if role == "sdr" else None
            _, secret = tokens.create(
                s, name=f"test-{role}", role=role, at=clock.now(), owner=owner
            )
            made[role] = secret
        _, made["sdr-ben"] = tokens.create(s, name="ben", role="sdr", at=clock.now(), owner="ben")
    return SeededApp(create_app(db, settings, clock), db, clock, settings, scenario, made)
