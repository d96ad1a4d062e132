"""Median render time and query count of the console's library and task list at 10,000 rows.

    python -m bench.console_pages [--rows 10000] [--runs 30]

Uses a throwaway SQLite database (or DATABASE_URL if set) and Django's test client, so it
measures the view, the queries and the template, not the network.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="loopdeck-pages-")
    os.environ.setdefault("LOOPDECK_DATA_DIR", data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from tests.console.test_scale import fill

    setup_test_environment()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    fill(args.rows)
    print(f"filled {args.rows} videos, tasks and animated images in {time.perf_counter() - started:.1f} s "
          f"({connection.vendor})")
    user = get_user_model().objects.create_superuser("bench", password="bench-password-1")
    client = Client()
    client.force_login(user)

    pages = [
        ("library, newest first", "/videos/", {}),
        ("library, search", "/videos/", {"q": "clip 09"}),
        ("library, page 200 by duration", "/videos/", {"sort": "-duration", "page": 200}),
        ("task list, page 1", "/tasks/", {}),
        ("task list, FINISH page 100", "/tasks/", {"status": "FINISH", "page": 100}),
    ]
    print(f"| page | median ms | p90 ms | queries |\n|---|---|---|---|")
    for label, url, params in pages:
        client.get(url, params)  # warm caches and templates
        times = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                response = client.get(url, params)
                times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        times.sort()
        p90 = times[int(len(times) * 0.9) - 1]
        print(f"| {label} | {statistics.median(times):.1f} | {p90:.1f} | {len(queries)} |")


if __name__ == "__main__":
    main()
