"""The value frameworks shipped with the product: read and check the seed file.

Pure: no Flask, no database. ``load_seed_file()`` returns plain dicts with every field
present, or raises ValueError naming the first problem and where it is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SEED_FILE = Path(__file__).resolve().parent / "data" / "frameworks.json"

# How many guidance strings a criterion has per language: one per score 0-4, or fail/pass.
GUIDANCE_POINTS = {"scored": 5, "gate": 2}

CODE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,59}$")
NAME_MAX = 200
DESCRIPTION_MAX = 2000
GUIDANCE_MAX = 1000
LANGUAGES = ("en", "cy")

_FRAMEWORK_KEYS = {"code", "version", "name_en", "name_cy", "description_en", "description_cy",
                   "criteria"}
_CRITERION_KEYS = {"code", "kind", "name_en", "name_cy", "description_en", "description_cy",
                   "guidance_en", "guidance_cy"}


def load_seed_file(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The frameworks in the seed file (the shipped one by default), checked and normalised.

    Each framework dict has code, version, position, names, descriptions and criteria; each
    criterion dict has code, kind, position, names, descriptions and guidance lists.
    """
    source = Path(path) if path is not None else SEED_FILE
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{source}: not valid JSON ({e})") from None
    return validate_seed(data, source=str(source))


def validate_seed(data: Any, *, source: str = "seed") -> list[dict[str, Any]]:
    """Check the parsed seed document and return its frameworks normalised."""
    if not isinstance(data, dict) or set(data) != {"frameworks"}:
        raise ValueError(f'{source}: expected an object with one key, "frameworks"')
    frameworks = data["frameworks"]
    if not isinstance(frameworks, list) or not frameworks:
        raise ValueError(f'{source}: "frameworks" must be a non-empty list')
    out = []
    seen: set[str] = set()
    for index, raw in enumerate(frameworks):
        framework = _framework(raw, f"{source}: frameworks[{index}]")
        if framework["code"] in seen:
            raise ValueError(f"{source}: framework code {framework['code']!r} appears more than once")
        seen.add(framework["code"])
        framework["position"] = index
        out.append(framework)
    return out


def _framework(raw: Any, where: str) -> dict[str, Any]:
    _check_keys(raw, _FRAMEWORK_KEYS, where)
    code = _code(raw["code"], where)
    where = f"{where} ({code})"
    version = raw["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{where}: version must be a whole number of at least 1")
    framework: dict[str, Any] = {"code": code, "version": version, **_texts(raw, where)}
    criteria = raw["criteria"]
    if not isinstance(criteria, list) or not criteria:
        raise ValueError(f'{where}: "criteria" must be a non-empty list')
    framework["criteria"] = []
    seen: set[str] = set()
    for index, item in enumerate(criteria):
        criterion = _criterion(item, f"{where} criteria[{index}]")
        if criterion["code"] in seen:
            raise ValueError(f"{where}: criterion code {criterion['code']!r} appears more than once")
        seen.add(criterion["code"])
        criterion["position"] = index
        framework["criteria"].append(criterion)
    return framework


def _criterion(raw: Any, where: str) -> dict[str, Any]:
    _check_keys(raw, _CRITERION_KEYS, where)
    code = _code(raw["code"], where)
    where = f"{where} ({code})"
    kind = raw["kind"]
    if kind not in GUIDANCE_POINTS:
        raise ValueError(f"{where}: kind must be one of {', '.join(GUIDANCE_POINTS)}, not {kind!r}")
    criterion: dict[str, Any] = {"code": code, "kind": kind, **_texts(raw, where)}
    points = GUIDANCE_POINTS[kind]
    for lang in LANGUAGES:
        key = f"guidance_{lang}"
        guidance = raw[key]
        if (not isinstance(guidance, list) or len(guidance) != points
                or not all(isinstance(g, str) and g.strip() for g in guidance)):
            what = "one per score 0-4" if kind == "scored" else "fail, then pass"
            raise ValueError(f"{where}: {key} must be a list of {points} non-empty strings ({what})")
        if any(len(g.strip()) > GUIDANCE_MAX for g in guidance):
            raise ValueError(f"{where}: each entry of {key} must be {GUIDANCE_MAX} characters or fewer")
        criterion[key] = [g.strip() for g in guidance]
    return criterion


def _check_keys(raw: Any, expected: set[str], where: str) -> None:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object")
    missing = expected - set(raw)
    unknown = set(raw) - expected
    if missing:
        raise ValueError(f"{where}: missing {', '.join(sorted(missing))}")
    if unknown:
        raise ValueError(f"{where}: unknown {', '.join(sorted(unknown))}")


def _code(value: Any, where: str) -> str:
    if not isinstance(value, str) or not CODE_PATTERN.match(value):
        raise ValueError(f"{where}: code must be 1 to 60 letters, digits or hyphens, starting with a "
                         f"letter (got {value!r})")
    return value


def _texts(raw: dict[str, Any], where: str) -> dict[str, str]:
    out = {}
    for lang in LANGUAGES:
        name = raw[f"name_{lang}"]
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}: name_{lang} must be a non-empty string")
        if len(name.strip()) > NAME_MAX:
            raise ValueError(f"{where}: name_{lang} must be {NAME_MAX} characters or fewer")
        description = raw[f"description_{lang}"]
        if not isinstance(description, str):
            raise ValueError(f"{where}: description_{lang} must be a string")
        if len(description.strip()) > DESCRIPTION_MAX:
            raise ValueError(f"{where}: description_{lang} must be {DESCRIPTION_MAX} characters or fewer")
        out[f"name_{lang}"] = name.strip()
        out[f"description_{lang}"] = description.strip()
    return out
