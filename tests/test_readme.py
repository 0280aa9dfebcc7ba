"""The README's configuration table lists every setting the code reads."""

from __future__ import annotations

import re
from pathlib import Path

import config

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_read_by_the_code_is_documented_in_config_and_readme():
    readme = (ROOT / "README.md").read_text()
    documented = {s.env for s in config.SETTINGS}
    sources = [ROOT / "config.py", *sorted((ROOT / "procure").rglob("*.py")),
               *sorted((ROOT / "workers").rglob("*.py"))]
    read = set()
    for path in sources:
        read |= set(re.findall(r'"(PROCURE_[A-Z_]+)"', path.read_text()))
    read.discard("PROCURE_TEST_DATABASE_URL")  # read by the tests, documented all the same
    assert read <= documented, f"undocumented settings: {sorted(read - documented)}"
    missing = [name for name in documented if f"`{name}`" not in readme]
    assert missing == [], f"settings missing from the README table: {missing}"
