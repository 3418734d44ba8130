"""On PostgreSQL, the inbox's tallies follow each statement, not each row.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07

0023's trigger on PostgreSQL updated the direction's ``request_tallies`` row once per
request row written. Under MVCC each of those updates leaves a new version of the same
row, and in one transaction every later update walks the versions before it: a statement
that touches N requests (a bulk fix by an operator, a data migration) cost O(N²): one
UPDATE of 4,000 / 8,000 / 16,000 requests took 0.55 / 1.85 / 6.7 s with the row trigger,
and 0.09 / 0.18 / 0.39 s with these (PostgreSQL 15 here, 7 December).
Statement-level triggers with transition tables add up the deltas of all the rows a
statement wrote and update each direction's row once. The counts
are the same (``changes`` still moves by one per row before and per row after, so the
live fingerprint moves exactly as before). SQLite has only row triggers, and updates a row
in place, so its triggers stay as 0023 made them.

Down: the row trigger of 0023 again.
"""

from __future__ import annotations

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | None = None
depends_on: str | None = None

# One function for the three triggers: per direction, what the statement took out
# (``old_rows``) and what it put in (``new_rows``), added up, each direction's row updated
# once for each. A trigger only reads the transition tables its event has (plpgsql plans a
# statement when it first runs it), as 0023's function read only OLD or NEW.
_STATEMENT_TRIGGERS = (
    """CREATE FUNCTION requests_tally_statement() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
IF TG_OP IN ('UPDATE', 'DELETE') THEN
UPDATE request_tallies AS t
SET open = t.open - d.open, unacknowledged = t.unacknowledged - d.unack,
    changes = t.changes + d.changes
FROM (SELECT direction,
             sum(CASE WHEN queue_rank >= 0 THEN 1 ELSE 0 END) AS open,
             sum(CASE WHEN queue_rank >= 0 AND queue_rank % 4 < 2 THEN 1 ELSE 0 END) AS unack,
             count(*) AS changes
      FROM old_rows GROUP BY direction) AS d
WHERE t.direction = d.direction;
END IF;
IF TG_OP IN ('INSERT', 'UPDATE') THEN
UPDATE request_tallies AS t
SET open = t.open + d.open, unacknowledged = t.unacknowledged + d.unack,
    changes = t.changes + d.changes
FROM (SELECT direction,
             sum(CASE WHEN queue_rank >= 0 THEN 1 ELSE 0 END) AS open,
             sum(CASE WHEN queue_rank >= 0 AND queue_rank % 4 < 2 THEN 1 ELSE 0 END) AS unack,
             count(*) AS changes
      FROM new_rows GROUP BY direction) AS d
WHERE t.direction = d.direction;
END IF;
RETURN NULL; END $$""",
    "CREATE TRIGGER requests_tally_insert AFTER INSERT ON requests "
    "REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION requests_tally_statement()",
    "CREATE TRIGGER requests_tally_update AFTER UPDATE ON requests "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION requests_tally_statement()",
    "CREATE TRIGGER requests_tally_delete AFTER DELETE ON requests "
    "REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION requests_tally_statement()",
)

_ROW_TRIGGER = (  # 0023's, for downgrade
    """CREATE FUNCTION requests_tally() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
IF TG_OP IN ('UPDATE', 'DELETE') THEN
UPDATE request_tallies
SET open = open - CASE WHEN OLD.queue_rank >= 0 THEN 1 ELSE 0 END,
    unacknowledged = unacknowledged
        - CASE WHEN OLD.queue_rank >= 0 AND OLD.queue_rank % 4 < 2 THEN 1 ELSE 0 END,
    changes = changes + 1
WHERE direction = OLD.direction;
END IF;
IF TG_OP IN ('INSERT', 'UPDATE') THEN
UPDATE request_tallies
SET open = open + CASE WHEN NEW.queue_rank >= 0 THEN 1 ELSE 0 END,
    unacknowledged = unacknowledged
        + CASE WHEN NEW.queue_rank >= 0 AND NEW.queue_rank % 4 < 2 THEN 1 ELSE 0 END,
    changes = changes + 1
WHERE direction = NEW.direction;
END IF;
RETURN NULL; END $$""",
    "CREATE TRIGGER requests_tally AFTER INSERT OR UPDATE OR DELETE ON requests "
    "FOR EACH ROW EXECUTE FUNCTION requests_tally()",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER requests_tally ON requests")
    op.execute("DROP FUNCTION requests_tally()")
    for statement in _STATEMENT_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER requests_tally_{name} ON requests")
    op.execute("DROP FUNCTION requests_tally_statement()")
    for statement in _ROW_TRIGGER:
        op.execute(statement)
