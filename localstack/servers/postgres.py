"""PostgreSQL from Debian's package, as a private cluster in the state dir.

PostgreSQL refuses to run as root, and CI runs as root: the cluster belongs to the `postgres`
system user, and the server is exec'd through `setpriv` so the recorded pid is the postmaster.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from localstack.server import Server, StartError


def pg_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        raise RuntimeError("PostgreSQL server not installed (apt-get install postgresql)")
    return Path(found[-1]).parent


class Postgres(Server):
    name = "postgres"

    @property
    def ports(self) -> list[int]:
        return [self.s.postgres_port]

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def install(self) -> None:
        pg_bindir()

    def _as_postgres(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]

    def prepare(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            _let_postgres_traverse(self.dir)
        (self.dir / "run").mkdir(exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            for p in (self.dir, self.dir / "run"):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        if (self.data / "PG_VERSION").exists():
            return
        pwfile = self.dir / ".pwfile"
        pwfile.write_text(self.s.postgres_password + "\n")
        if os.geteuid() == 0:
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        try:
            result = subprocess.run(
                [
                    *self._as_postgres(),
                    str(pg_bindir() / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                capture_output=True,
                text=True,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            shutil.rmtree(self.data, ignore_errors=True)
            raise StartError(f"postgres: initdb failed: {result.stdout}{result.stderr}")

    def command(self) -> tuple[list[str], dict[str, str]]:
        argv = [
            *self._as_postgres(),
            str(pg_bindir() / "postgres"),
            "-D",
            str(self.data),
            "-c",
            f"listen_addresses={self.s.host}",
            "-c",
            f"port={self.s.postgres_port}",
            "-c",
            f"unix_socket_directories={self.dir / 'run'}",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "max_connections=100",
            "-c",
            "logging_collector=off",
        ]
        return argv, {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}

    def _superuser(self):
        import psycopg

        return psycopg.connect(
            host=str(self.dir / "run"),
            port=self.s.postgres_port,
            user="postgres",
            dbname="postgres",
            autocommit=True,
            connect_timeout=2,
        )

    def ready(self) -> bool:
        import psycopg

        with psycopg.connect(
            host=self.s.host,
            port=self.s.postgres_port,
            user="postgres",
            password=self.s.postgres_password,
            dbname="postgres",
            connect_timeout=2,
        ) as conn:
            return conn.execute("select 1").fetchone() == (1,)

    def after_start(self) -> None:
        from psycopg import sql

        s = self.s
        with self._superuser() as conn:
            role = conn.execute("select 1 from pg_roles where rolname = %s", (s.postgres_user,))
            if role.fetchone() is None:
                conn.execute(
                    sql.SQL("create role {} login password {}").format(
                        sql.Identifier(s.postgres_user), sql.Literal(s.postgres_password)
                    )
                )
            else:
                conn.execute(
                    sql.SQL("alter role {} password {}").format(
                        sql.Identifier(s.postgres_user), sql.Literal(s.postgres_password)
                    )
                )
            db = conn.execute("select 1 from pg_database where datname = %s", (s.postgres_db,))
            if db.fetchone() is None:
                conn.execute(
                    sql.SQL("create database {} owner {}").format(
                        sql.Identifier(s.postgres_db), sql.Identifier(s.postgres_user)
                    )
                )

    def version(self) -> str:
        import psycopg

        with psycopg.connect(
            host=self.s.host,
            port=self.s.postgres_port,
            user=self.s.postgres_user,
            password=self.s.postgres_password,
            dbname=self.s.postgres_db,
            connect_timeout=2,
        ) as conn:
            row = conn.execute("show server_version").fetchone()
            return str(row[0]).split()[0] if row else "?"


def _let_postgres_traverse(path: Path) -> None:
    """The postgres user must reach its data dir; a clone in `mktemp -d` is mode 700.

    Adds only the search bit (o+x: enter, not list) on the ancestors that lack it.
    """
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)
