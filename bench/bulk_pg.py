"""Bulk lookups over a million customers on PostgreSQL: the CLI's time and memory.

    python bench/bulk_pg.py --database-url postgresql://USER:PASSWORD@HOST/DB \\
        [--customers 1000000] [--workers 2] [--json FILE]

On a throwaway database of that server (its role may CREATE DATABASE): the demo data and
N generated customers (`server.seed`), `python -m server serve --workers W`, then, as a
support script would, the installed CLI with a staff token:

    moncompte invoices list --status unpaid --customers-file ids.txt -o ndjson

(`ids.txt`: every customer ID, one a line). Reported: seeding time, the CLI's wall time,
its peak memory (max RSS, from the kernel), the lines written, and the check that they are
every unpaid invoice the database holds. Exits 1 when the run fails or a target is missed
(<= 60 s, <= 100 MiB, no error).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import TODAY, _database, serve, stop  # noqa: E402  (the same helpers)

TARGET_SECONDS = 60.0
TARGET_MIB = 100.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, help="the CLI's --concurrency (default 8)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--reuse", metavar="DATABASE",
        help="a database a run before seeded (its name): no seeding, and it is kept",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the database it seeds")
    args = parser.parse_args()
    exe = shutil.which("moncompte", path=str(Path(sys.executable).parent))
    if exe is None:
        raise SystemExit("no moncompte next to this Python: install the package first")
    if not Path("/usr/bin/time").exists():
        raise SystemExit("bench/bulk_pg.py needs GNU time: apt-get install time")

    from sqlalchemy import create_engine, text

    from server import embedded
    from server.db import make_engine
    from server.seed import seed_all

    report: dict[str, object] = {
        "customers": args.customers,
        "workers": args.workers,
        "concurrency": args.concurrency or 8,
    }
    with tempfile.TemporaryDirectory(prefix="moncompte-bulk-pg-") as tmp:
        scratch = Path(tmp)
        if args.reuse:
            from sqlalchemy.engine import make_url

            from server.db import normalize_database_url

            admin = make_url(normalize_database_url(args.database_url))
            url, drop = admin.set(database=args.reuse).render_as_string(False), None
        else:
            url, drop = _database(args.database_url, scratch)
            if args.keep:
                print(f"keeping the database {url.rsplit('/', 1)[1]}", flush=True)
                drop = None
        try:
            if not args.reuse:
                started = time.perf_counter()
                engine = make_engine(url)
                seed_all(engine, TODAY, customers=args.customers)
                engine.dispose()
                report["seed_s"] = round(time.perf_counter() - started, 1)
                print(f"seeded {args.customers:,} customers in {report['seed_s']} s", flush=True)

            plain = create_engine(url)
            ids = scratch / "ids.txt"
            with plain.connect() as connection, ids.open("w") as out:
                for (customer_id,) in connection.execute(
                    text("SELECT id FROM customers ORDER BY id")
                ).yield_per(10_000):
                    out.write(f"{customer_id}\n")
                expected = connection.execute(
                    text("SELECT count(*) FROM invoices WHERE status <> 'paid'")
                ).scalar_one()
            plain.dispose()
            token = embedded.mint_token(url, "agent")

            server, base = serve(url, args.workers, scratch / "server.log")
            try:
                env = {
                    **{k: v for k, v in os.environ.items() if not k.startswith("MONCOMPTE_")},
                    "MONCOMPTE_TOKEN": token,
                    "MONCOMPTE_API_URL": base,
                    "HOME": str(scratch),
                    "XDG_CONFIG_HOME": str(scratch / "config"),
                    "NO_COLOR": "1",
                }
                rows = scratch / "unpaid.ndjson"
                # GNU time execs the CLI from a small process: the CLI's own peak memory
                # (a child forked from this Python would count this process's pages too).
                timing = scratch / "time.txt"
                began = time.perf_counter()
                with rows.open("wb") as out:
                    client = subprocess.run(
                        ["/usr/bin/time", "-f", "%M %U %S", "-o", str(timing), exe,
                         "invoices", "list", "--status", "unpaid",
                         "--customers-file", str(ids), "-o", "ndjson",
                         *(["--concurrency", str(args.concurrency)] if args.concurrency else [])],
                        stdout=out, stderr=subprocess.PIPE, env=env, check=False,
                    )  # fmt: skip
                wall = time.perf_counter() - began
                stderr = client.stderr.decode()
                code = client.returncode
                kib, user, system = timing.read_text().split()[-3:]
            finally:
                stop(server)
            with rows.open() as lines:
                written = sum(1 for _ in lines)
        finally:
            if drop is not None:
                try:
                    drop()
                except Exception as exc:  # never hide the run's own error behind this one
                    print(f"could not drop {url.rsplit('/', 1)[1]}: {exc}", file=sys.stderr)
    rss_mib = int(kib) / 1024
    report.update(
        exit_code=code,
        cli_s=round(wall, 1),
        cli_cpu_s=round(float(user) + float(system), 1),
        cli_max_rss_mib=round(rss_mib, 1),
        rows=written,
        unpaid_in_database=expected,
    )
    print(
        f"moncompte invoices list over {args.customers:,} customers ({args.workers} "
        f"workers): exit {code}, {wall:.1f} s, CPU {report['cli_cpu_s']} s, max RSS "
        f"{rss_mib:.1f} MiB, {written:,} rows ({expected:,} unpaid in the database)"
    )
    if code != 0:
        print(stderr[-2000:], file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    ok = code == 0 and written == expected and wall <= TARGET_SECONDS and rss_mib <= TARGET_MIB
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
