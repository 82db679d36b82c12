"""Unzipped size of each Lambda function's package, as `sam build` with deploy/Makefile makes it.

Offline: instead of downloading wheels, it sums the files of the same distributions installed in
this virtual environment (same versions, this machine's platform), minus what the Makefile prunes,
plus backend/ (and bot/) with the Makefile's exclusions, plus the bytecode the Makefile
precompiles (this environment's own `__pycache__` files for the distributions, compiled in memory
for our code).
"""

from __future__ import annotations

import marshal
import re
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
LAMBDA_LIMIT = 250 * 1024 * 1024  # unzipped, function + layers

# Mirrors deploy/Makefile: PRUNE and CODE_EXCLUDES.
PRUNED_DISTRIBUTIONS = {"boto3", "botocore", "s3transfer", "jmespath"}
PRUNED_DIRS = ("phonenumbers/geodata", "phonenumbers/carrierdata")
EXCLUDED_CODE = ("backend/local", "backend/cli", "backend/deploy")
_CACHE_TAG = f".{sys.implementation.cache_tag}."  # the bytecode compileall writes: .cpython-311.
_PYC_HEADER = 16


def _requirements(name: str) -> list[str]:
    found: list[str] = []
    for line in (DEPLOY / f"requirements-{name}.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += _requirements(line[3:].removeprefix("requirements-").removesuffix(".txt"))
        elif line:
            found.append(line)
    return found


def _name(requirement: str) -> tuple[str, set[str]]:
    match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[([^\]]*)\])?", requirement)
    assert match, requirement
    extras = {e.strip() for e in (match.group(2) or "").split(",") if e.strip()}
    return match.group(1), extras


def _closure(requirements: Iterable[str]) -> set[str]:
    """Installed distributions needed by the requirements (with extras), transitively."""
    todo = [_name(r) for r in requirements]
    seen: set[str] = set()
    while todo:
        name, extras = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(key)
        for requirement in dist.requires or []:
            spec, _, marker = requirement.partition(";")
            marker = marker.strip()
            if marker:
                wanted = re.findall(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
                if wanted and not set(wanted) & extras:
                    continue
                if "python_version" in marker and '< "3' in marker and "3.1" not in marker:
                    continue
                if "sys_platform" in marker and "win32" in marker and "!=" not in marker:
                    continue
            todo.append(_name(spec.strip()))
    return seen


def _distribution_bytes(key: str) -> int:
    if key in PRUNED_DISTRIBUTIONS:
        return 0
    dist = metadata.distribution(key)
    total = 0
    for file in dist.files or []:
        text = str(file)
        if text.startswith("..") or ("__pycache__" in text and _CACHE_TAG not in text):
            continue
        if any(text.startswith(prefix + "/") for prefix in PRUNED_DIRS):
            continue
        path = Path(str(dist.locate_file(file)))
        if path.is_file():
            total += path.stat().st_size
    return total


def _code_bytes(directories: Iterable[str]) -> int:
    total = 0
    for directory in directories:
        for path in (ROOT / directory).rglob("*"):
            relative = path.relative_to(ROOT).as_posix()
            if "__pycache__" in relative or path.suffix == ".pyc" or not path.is_file():
                continue
            if any(relative.startswith(prefix + "/") for prefix in EXCLUDED_CODE):
                continue
            total += path.stat().st_size
            if path.suffix == ".py":
                code = compile(path.read_bytes(), relative, "exec", dont_inherit=True)
                total += _PYC_HEADER + len(marshal.dumps(code))
    return total


def _functions() -> dict[str, str]:
    """Function logical id -> requirements set ("backend" or "bot"), from template.yaml."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)  # noqa: S506
    return {
        name: "bot" if resource["Properties"]["Handler"].startswith("bot.") else "backend"
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def sizes() -> dict[str, tuple[int, int]]:
    """Function -> (dependency bytes, code bytes)."""
    cache: dict[str, tuple[int, int]] = {}
    result = {}
    for function, kind in _functions().items():
        if kind not in cache:
            dependencies = sum(_distribution_bytes(key) for key in _closure(_requirements(kind)))
            code = _code_bytes(["backend"] + (["bot"] if kind == "bot" else []))
            cache[kind] = (dependencies, code)
        result[function] = cache[kind]
    return result


def main() -> None:
    print("Lambda package sizes (unzipped, as deploy/Makefile builds them)")
    print(f"{'function':<24}{'dependencies':>14}{'code':>10}{'total':>10}{'of 250 MB':>11}")
    for function, (dependencies, code) in sizes().items():
        total = dependencies + code
        print(
            f"{function:<24}{dependencies / 1e6:>11.1f} MB{code / 1e6:>7.2f} MB"
            f"{total / 1e6:>7.1f} MB{total / LAMBDA_LIMIT:>10.0%}"
        )


if __name__ == "__main__":
    main()
