"""The Celery configuration keeps the rules of docs/operations.md (no I/O: nothing connects)."""

from __future__ import annotations

from engine.settings import Settings
from workers import runtime
from workers.app import (
    TASK_HARD_LIMIT_SECONDS,
    VISIBILITY_TIMEOUT_SECONDS,
    celery_config,
    create_app,
)
from workers.beat import QUEUES


def _settings(**kw: object) -> Settings:
    return Settings(secret_key="x", **kw)  # type: ignore[arg-type]


def test_json_only_acks_late_prefetch_one_and_no_results() -> None:
    conf = celery_config(_settings())
    assert conf["accept_content"] == ["json"] and conf["task_serializer"] == "json"
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"]
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["task_ignore_result"] and conf["result_backend"] is None
    assert conf["broker_connection_retry_on_startup"]
    assert conf["broker_connection_max_retries"] is None


def test_visibility_timeout_is_far_above_the_longest_task() -> None:
    assert runtime.SEND_TASK_BUDGET_SECONDS < TASK_HARD_LIMIT_SECONDS
    assert VISIBILITY_TIMEOUT_SECONDS >= 5 * TASK_HARD_LIMIT_SECONDS
    conf = celery_config(_settings())
    assert conf["broker_transport_options"]["visibility_timeout"] == VISIBILITY_TIMEOUT_SECONDS


def test_the_broker_may_have_its_own_redis_database() -> None:
    conf = celery_config(_settings(redis_url="redis://r:6379/0", broker_url="redis://r:6379/1"))
    assert conf["broker_url"] == "redis://r:6379/1"
    assert celery_config(_settings(redis_url="redis://r:6379/3"))["broker_url"].endswith("/3")


def test_every_beat_entry_names_a_registered_task_and_expires_instead_of_piling_up() -> None:
    app = create_app(_settings(tick_seconds=2, send_lease_seconds=6))
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert {"tick", "dispatch-sends", "resolve-leases"} <= set(schedule)
    for entry in schedule.values():
        assert entry["task"] in app.tasks
        assert entry["options"]["expires"] >= 1
        assert "eta" not in entry["options"] and "countdown" not in entry["options"]
    assert schedule["tick"]["schedule"] == 2
    assert schedule["resolve-leases"]["schedule"] == 3  # half the lease


def test_sends_and_polls_have_queues_of_their_own() -> None:
    routes = celery_config(_settings())["task_routes"]
    assert routes["kadenz.send_mailbox"]["queue"] in QUEUES
    assert routes["kadenz.poll_mailbox"]["queue"] in QUEUES
    assert routes["kadenz.send_mailbox"]["queue"] != routes["kadenz.poll_mailbox"]["queue"]


def test_a_send_lock_lapses_soon_after_a_crash_but_outlives_a_tick() -> None:
    assert runtime.lock_seconds(_settings(tick_seconds=1)) == 10
    assert runtime.lock_seconds(_settings(tick_seconds=5)) == 30
