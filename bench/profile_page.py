"""Profile one page of the app with pyinstrument, as the load benchmark serves it (production
configuration, rate limits off), in process through the test client:

``python bench/profile_page.py --size 100000 '/catalogue?q=council+homes' --repeat 20``

The database is the load benchmark's kept one for that size (``bench/data.py``; built if
missing). Prints the call tree of the repeated requests (after one warm-up request) and how
many SQL statements one request sent.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import data  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--interval", type=float, default=0.0005)
    parser.add_argument("--database-url",
                        default=os.environ.get("PROCURE_BENCH_DATABASE_URL", data.DEFAULT_URL))
    args = parser.parse_args(argv)
    url, _built = data.ensure(args.database_url, args.size, args.seed)
    os.environ.update(PROCURE_ENV="production", PROCURE_DATABASE_URL=url,
                      PROCURE_SECRET_KEY=secrets.token_hex(32))
    from pyinstrument import Profiler
    from sqlalchemy import event

    from procure import create_app

    app = create_app("production", RATELIMIT_ENABLED=False)
    statements: list[str] = []
    event.listen(app.extensions["db_engine"], "before_cursor_execute",
                 lambda _c, _cur, sql, *_a: statements.append(sql))
    client = app.test_client()
    first = client.get(args.path)
    print(f"GET {args.path}: {first.status_code}, {len(first.data):,} bytes, "
          f"{len(statements)} SQL statements")
    profiler = Profiler(interval=args.interval)
    profiler.start()
    for _ in range(args.repeat):
        client.get(args.path).get_data()
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
