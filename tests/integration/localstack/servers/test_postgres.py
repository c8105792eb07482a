"""PostgreSQL smoke test through psycopg, with the project's database and credentials."""

from __future__ import annotations

import psycopg
import pytest

from hindsight.settings import Settings

pytestmark = pytest.mark.servers("postgres")


def test_create_insert_select(settings: Settings) -> None:
    with psycopg.connect(settings.postgres_dsn) as conn:
        conn.execute("create temporary table smoke (id bigserial primary key, body jsonb not null)")
        with conn.cursor() as cur:
            cur.executemany(
                "insert into smoke (body) values (%s::jsonb)",
                [(f'{{"n": {i}}}',) for i in range(100)],
            )
        rows = conn.execute("select count(*), sum((body->>'n')::int) from smoke").fetchone()
        assert rows == (100, sum(range(100)))
        assert conn.execute("select current_database(), current_user").fetchone() == (
            settings.postgres_db,
            settings.postgres_user,
        )


def test_wrong_password_is_refused(settings: Settings) -> None:
    bad = settings.postgres_dsn.replace(f":{settings.postgres_password}@", ":not-the-password@")
    try:
        psycopg.connect(bad, connect_timeout=5).close()
    except psycopg.OperationalError as err:
        assert "password authentication failed" in str(err)
    else:
        raise AssertionError("a wrong password was accepted")
