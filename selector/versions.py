"""Container versions (e.g. "0.38.0") compared numerically, never as strings ("0.9" < "0.10")."""
from __future__ import annotations


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def in_range(version: str, low: str | None, high: str | None) -> bool:
    key = version_key(version)
    if low is not None and key < version_key(low):
        return False
    if high is not None and key > version_key(high):
        return False
    return True


def at_least(version: str, since: str) -> bool:
    return version_key(version) >= version_key(since)
