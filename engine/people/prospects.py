"""Prospects: bulk CSV import (upsert by email key), listing and lookup.

The import validates rows in Python and writes each batch with one `INSERT … ON CONFLICT DO
UPDATE` (SQLAlchemy Core, both dialects) in its own transaction: a crash mid-file leaves whole
batches only, and running the same file again changes nothing (upsert by `email_key`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.core import addresses
from engine.core.events import EventType
from engine.errors import NotFound
from engine.people import csv_import, field_map, users
from engine.people.csv_import import CleanRow, RowIssue
from engine.store import bulk
from engine.store.db import Database
from engine.store.models import Account, Event, Prospect, Suppression, User

BATCH_SIZE = 2000
_COLUMNS = (
    "first_name",
    "last_name",
    "company",
    "title",
    "phone",
    "timezone",
    "timezone_source",
    "country",
    "region",
    "consent_source",
    "consent_date",
)


@dataclass(slots=True)
class ImportReport:
    """What an import did, for the CLI and for `enroll --csv`."""

    path: str
    encoding: str
    delimiter: str
    mapping: list[tuple[str, str]]
    dry_run: bool
    rows: int = 0  # data records read (blank lines not counted)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # email keys of imported rows, file order

    @property
    def refused(self) -> list[RowIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[RowIssue]:
        return [i for i in self.issues if i.severity == "warning"]


def import_csv(
    db: Database,
    path: Path,
    *,
    clock: Clock,
    mapping: str | None = None,
    owner: str | None = None,
    create_owners: bool = False,
    check_dns: bool = False,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import (upsert) prospects from a CSV; bad rows are reported, good rows imported.

    `progress(done, total)` is called after each batch with counts of records. Owners (the
    column, or `owner` for the whole file) are matched to users (engine.people.users); an
    unknown one is a row warning, or a new user with `create_owners`.
    """
    source = csv_import.open_csv(path, field_map.parse_map(mapping))
    return import_source(
        db,
        source,
        clock=clock,
        owner=owner,
        create_owners=create_owners,
        check_dns=check_dns,
        dry_run=dry_run,
        batch_size=batch_size,
        progress=progress,
    )


def import_source(
    db: Database,
    source: csv_import.CsvSource,
    *,
    clock: Clock,
    owner: str | None = None,
    create_owners: bool = False,
    acting_for: str | None = None,
    check_dns: bool = False,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import an opened source (a file, or rows the API built in memory).

    `acting_for` is the SDR a caller acts as: a row whose address is another SDR's prospect
    is refused, never updated (its owner would otherwise change hands)."""
    owners = _Owners(db, clock.now(), create=create_owners and not dry_run)
    if owner:
        owner = owners.forced(owner)
    report = ImportReport(
        path=str(source.path),
        encoding=source.encoding,
        delimiter=source.delimiter,
        mapping=source.mapping,
        dry_run=dry_run,
        notices=list(source.notices),
    )
    # Records are streamed, not listed: a million rows as lists of strings would cost ~1 GB.
    # Progress needs the total up front; counting is one cheap extra parse of the text.
    total = sum(1 for _ in csv_import.iter_records(source)) if progress else 0
    seen: dict[str, int] = {}  # email key -> row it first appeared on
    cache = csv_import.AddressCache(check_dns=check_dns)
    batch: list[CleanRow] = []
    done = 0
    for done, (row, record) in enumerate(csv_import.iter_records(source), start=1):
        report.rows += 1
        clean, issues = csv_import.clean(source, row, record, cache=cache)
        report.issues.extend(issues)
        if clean is not None:
            first = seen.get(clean.email_key)
            if first is not None:
                report.issues.append(
                    RowIssue(
                        row,
                        next(h for h, t in source.mapping if t == "email"),
                        f"{clean.email} is a duplicate of row {first} (only the first is imported)",
                        "merge the two rows or delete this one",
                    )
                )
            else:
                seen[clean.email_key] = row
                if owner:
                    clean.values["owner"] = owner
                else:
                    owners.resolve(clean, source, report)
                batch.append(clean)
        if len(batch) >= batch_size:
            _write_batch(db, batch, report, clock.now(), acting_for)
            batch = []
            if progress:
                progress(done, total)
    if batch:
        _write_batch(db, batch, report, clock.now(), acting_for)
    if progress:
        progress(done, total)
    report.issues.sort(key=lambda i: (i.row, i.severity))
    return report


def _write_batch(
    db: Database,
    rows: list[CleanRow],
    report: ImportReport,
    now: datetime,
    acting_for: str | None = None,
) -> None:
    """Upsert one batch in one transaction (or only count, on a dry run)."""
    with db.session() as session:
        rows = _drop_erased(session, rows, report)
        keys = [r.email_key for r in rows]
        existing = {
            p.email_key: p
            for p in session.execute(
                select(
                    Prospect.id,
                    Prospect.email_key,
                    Prospect.email,
                    Prospect.custom,
                    Prospect.owner,
                    Prospect.account_id,
                    *[getattr(Prospect, c) for c in _COLUMNS],
                ).where(Prospect.email_key.in_(keys))
            )
        }
        if acting_for is not None:
            rows = _drop_others(rows, existing, acting_for, report)
        accounts = {} if report.dry_run else _upsert_accounts(session, rows, now)
        values: list[dict[str, Any]] = []
        created: set[str] = set()
        for row in rows:
            old = existing.get(row.email_key)
            new = _merged(row, old, accounts)
            if old is None:
                created.add(row.email_key)
            elif all(getattr(old, k) == v for k, v in new.items()):
                report.unchanged += 1
                report.keys.append(row.email_key)
                continue
            values.append({**new, "email_key": row.email_key, "created_at": now, "updated_at": now})
            report.keys.append(row.email_key)
        report.created += len(created)
        report.updated += len(values) - len(created)
        if report.dry_run or not values:
            return
        ids = _upsert_prospects(session, values)
        bulk.insert_many(
            session,
            _table(Event),
            [
                {
                    "at": now,
                    "type": str(
                        EventType.PROSPECT_CREATED
                        if v["email_key"] in created
                        else EventType.PROSPECT_UPDATED
                    ),
                    "prospect_id": ids[v["email_key"]],
                    "owner": v.get("owner"),
                    "data": {"source": "import"},
                }
                for v in values
            ],
        )


def _merged(row: CleanRow, old: Any, accounts: dict[str, int]) -> dict[str, Any]:
    """The row's values over the stored ones: an empty cell never erases what we know."""
    new: dict[str, Any] = {"email": row.email}
    for column in (*_COLUMNS, "owner"):
        value: Any = row.values.get(column)
        if column == "consent_date" and value is not None:
            value = date.fromisoformat(value)  # checked by csv_import
        new[column] = value if value is not None else (getattr(old, column) if old else None)
    new["custom"] = {**(old.custom if old is not None and old.custom else {}), **row.custom}
    if old is not None and old.timezone and _inferred(new) and not _inferred_row(old):
        # A zone someone gave (a column, the API) beats one guessed from the country.
        new["timezone"], new["timezone_source"] = old.timezone, old.timezone_source
    account_id = accounts.get(row.domain)
    new["account_id"] = account_id if account_id is not None else (old.account_id if old else None)
    return new


def _drop_others(
    rows: list[CleanRow], existing: dict[str, Any], acting_for: str, report: ImportReport
) -> list[CleanRow]:
    """An SDR's import never touches another SDR's prospect (nor takes it over)."""
    kept = []
    for row in rows:
        old = existing.get(row.email_key)
        if old is not None and old.owner not in (None, acting_for):
            report.issues.append(
                RowIssue(
                    row.row,
                    "email",
                    f"{row.email} is another SDR's prospect; it was not changed",
                    "ask its owner, or a manager to reassign it",
                )
            )
        else:
            kept.append(row)
    return kept


def _drop_erased(session: Session, rows: list[CleanRow], report: ImportReport) -> list[CleanRow]:
    """Erased people stay erased: a CRM re-export must not bring their data back."""
    hashes = {addresses.value_hash("email", r.email_key): r for r in rows}
    erased = set(
        session.scalars(
            select(Suppression.value_hash).where(
                Suppression.kind == "email",
                Suppression.reason == "erased",
                Suppression.value_hash.in_(list(hashes)),
            )
        )
    )
    if not erased:
        return rows
    for h in erased:
        report.issues.append(
            RowIssue(
                hashes[h].row,
                None,
                "this person's data was erased (GDPR); they are not imported again",
                "remove the row from your CRM export",
            )
        )
    return [r for h, r in hashes.items() if h not in erased]


def _upsert_accounts(session: Session, rows: Iterable[CleanRow], now: datetime) -> dict[str, int]:
    """domain -> account id for the company domains in `rows` (never free-mail)."""
    names: dict[str, str | None] = {}
    for row in rows:
        if not addresses.is_free_mail(row.domain) and row.domain not in names:
            names[row.domain] = row.values.get("company")
    if not names:
        return {}
    found = session.execute(
        select(Account.domain, Account.id).where(Account.domain.in_(list(names)))
    )
    ids = {domain: account_id for domain, account_id in found}
    missing = [
        {"domain": d, "name": n, "created_at": now} for d, n in names.items() if d not in ids
    ]
    if missing:
        # DO NOTHING covers a concurrent import that created the same account meanwhile.
        bulk.insert_many(session, _table(Account), missing, conflict=["domain"])
        found = session.execute(
            select(Account.domain, Account.id).where(
                Account.domain.in_([m["domain"] for m in missing])
            )
        )
        ids.update({domain: account_id for domain, account_id in found})
    return ids


def _upsert_prospects(session: Session, values: list[dict[str, Any]]) -> dict[str, int]:
    """INSERT … ON CONFLICT (email_key) DO UPDATE; returns email key -> prospect id."""
    rows = bulk.insert_many(
        session,
        _table(Prospect),
        [{**v, "score": 0} for v in values],
        conflict=["email_key"],
        update=["email", *_COLUMNS, "owner", "custom", "account_id", "updated_at"],
        returning=["email_key", "id"],
    )
    return {key: prospect_id for key, prospect_id in rows}


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# --- lookup ------------------------------------------------------------------------------


def erased_key(email_key: str) -> str:
    """The `email_key` an erased prospect keeps: a hash, so the unique constraint holds."""
    return "erased:" + addresses.value_hash("email", email_key)


def find(session: Session, email: str) -> Prospect | None:
    """The prospect with this address (any spelling), or None. Erased ones are not found."""
    return session.scalars(select(Prospect).where(Prospect.email_key == _key(email))).first()


def get(session: Session, email: str) -> Prospect:
    prospect = find(session, email)
    if prospect is None:
        raise NotFound(
            f"no prospect {email.strip()!r} (import it first: kadenz prospects import FILE.csv)"
        )
    return prospect


def is_erased(session: Session, email: str) -> bool:
    key = erased_key(_key(email))
    return session.scalars(select(Prospect.id).where(Prospect.email_key == key)).first() is not None


def list_prospects(
    session: Session, *, owner: str | None = None, limit: int = 50
) -> Sequence[Prospect]:
    stmt = select(Prospect).where(Prospect.erased_at.is_(None))
    if owner:
        stmt = stmt.where(Prospect.owner == owner)
    return session.scalars(stmt.order_by(Prospect.id).limit(limit)).all()


def _key(email: str) -> str:
    """The email key of user input; tolerant, so an invalid spelling simply finds nothing."""
    try:
        return addresses.normalise(email).key
    except addresses.InvalidAddress:
        return addresses.key_of(email)


def _inferred(values: dict[str, Any]) -> bool:
    return str(values.get("timezone_source") or "").startswith(csv_import.INFERRED)


def _inferred_row(row: Any) -> bool:
    return str(row.timezone_source or "").startswith(csv_import.INFERRED)


class _Owners:
    """Owner names of an import, read as users (while the workspace has any)."""

    def __init__(self, db: Database, at: datetime, *, create: bool) -> None:
        self.db, self.at, self.create = db, at, create
        with db.session() as session:
            self.directory = users.Directory.load(session)
        self.made: dict[str, str] = {}

    def forced(self, text: str) -> str:
        """`--owner` for the whole file must be a user, once there are users."""
        if not self.directory:
            return text
        found = self.directory.match(text)
        if found is None:
            raise NotFound(f"--owner {text!r} is not a user (see: kadenz user list)")
        return found.name

    def resolve(self, clean: CleanRow, source: csv_import.CsvSource, report: ImportReport) -> None:
        text = clean.values.get("owner")
        if not text or (not self.directory and not self.create):
            return
        found = self.directory.match(text) if self.directory else None
        if found is not None:
            clean.values["owner"] = found.name
            return
        key = users.fold(text)
        if self.create:
            if key not in self.made:
                with self.db.session() as session:
                    made = users.add(
                        session, _free_handle(session, text), full_name=text, at=self.at
                    )
                    users.adopt(session, made)  # owned as typed before there were users
                    self.made[key] = made.name
                    self.directory = users.Directory.load(session)
            clean.values["owner"] = self.made[key]
            return
        header = next((h for h, t in source.mapping if t == "owner"), None)
        clean.values.pop("owner", None)
        clean.custom["owner_as_exported"] = text
        report.issues.append(
            RowIssue(
                clean.row,
                header,
                f"owner {text!r} is not a user; imported without an owner "
                "(kept as custom.owner_as_exported)",
                f'add them: kadenz user add NAME --name "{text}", or import with --create-owners',
                "warning",
            )
        )


def _free_handle(session: Session, text: str) -> str:
    base = users.handle_for(text)
    name, n = base, 2
    while session.scalars(select(User.id).where(User.name == name)).first() is not None:
        name, n = f"{base}-{n}", n + 1
    return name
