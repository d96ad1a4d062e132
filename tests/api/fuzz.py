"""A longer schema-based fuzzing run than CI's (which sends about 12 requests per operation).

    python -m tests.api.fuzz [examples per operation, default 200]

Runs tests/api/test_fuzz.py with more examples against a real Redis (TEST_REDIS_URL) and prints
pytest's summary; any 5xx or answer that contradicts the OpenAPI document fails the run.
"""

from __future__ import annotations

import os
import sys

import pytest


def main() -> int:
    examples = sys.argv[1] if len(sys.argv) > 1 else "200"
    os.environ["API_FUZZ_EXAMPLES"] = str(int(examples))
    print(f"fuzzing every operation with {examples} examples")
    return pytest.main(["-q", "-p", "no:cacheprovider", os.path.join(os.path.dirname(__file__), "test_fuzz.py")])


if __name__ == "__main__":
    raise SystemExit(main())
