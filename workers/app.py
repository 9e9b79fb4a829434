"""The Celery app: `celery -A workers.app worker` / `celery -A workers.app beat`.

Settings come from `engine.settings` (KADENZ_* variables), read once here at the edge of a
worker or beat process. Why each Celery setting has the value it has: docs/operations.md.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown

from engine.settings import Settings, load_settings
from workers import beat, runtime

# The longest task is a send task: SEND_TASK_BUDGET_SECONDS of claiming plus one batch in
# flight. Redis redelivers an unacknowledged task after the visibility timeout, so it must
# be far above that, or a task still running would be handed to a second worker.
TASK_SOFT_LIMIT_SECONDS = 300
TASK_HARD_LIMIT_SECONDS = 360
VISIBILITY_TIMEOUT_SECONDS = 3600


def celery_config(settings: Settings) -> dict[str, Any]:
    return {
        "broker_url": settings.broker_url or settings.redis_url,
        "broker_connection_retry_on_startup": True,
        "broker_connection_retry": True,
        "broker_connection_max_retries": None,  # wait for Redis forever, never give up
        "broker_transport_options": {
            "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
            "socket_connect_timeout": 5,
            "socket_timeout": 30,
            "retry_on_timeout": True,
            "health_check_interval": 25,
        },
        # JSON only: a payload is ids, never a pickled object (and never a secret).
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "result_backend": None,
        "task_ignore_result": True,
        # Acknowledge after the task ran; a task whose worker died is delivered again.
        # Safe because every task is idempotent (the database decides what is due).
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # A broker outage must not kill a send in the middle of an SMTP transaction.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "task_soft_time_limit": TASK_SOFT_LIMIT_SECONDS,
        "task_time_limit": TASK_HARD_LIMIT_SECONDS,
        "task_default_queue": beat.QUEUE_DEFAULT,
        "task_routes": {
            "kadenz.send_mailbox": {"queue": beat.QUEUE_SEND},
            "kadenz.send_mailboxes": {"queue": beat.QUEUE_SEND},
            "kadenz.poll_mailbox": {"queue": beat.QUEUE_POLL},
            "kadenz.resolve_by_proof": {"queue": beat.QUEUE_POLL},  # IMAP, like polling
        },
        "task_create_missing_queues": True,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
        "worker_max_tasks_per_child": 1000,
        "enable_utc": True,
        "timezone": "UTC",
        "beat_schedule": beat.schedule(settings),
    }


def create_app(settings: Settings) -> Celery:
    app = Celery("kadenz", include=["workers.tasks"])
    app.conf.update(celery_config(settings))
    return app


@worker_process_init.connect  # type: ignore[untyped-decorator]
def _fresh_services_after_fork(**_: object) -> None:
    runtime.reset()


app = create_app(load_settings())


@worker_process_shutdown.connect  # type: ignore[untyped-decorator]
def _close_connections(**_: object) -> None:
    runtime.shutdown()
