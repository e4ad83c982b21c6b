"""A byte-for-byte reproducible model.tar.gz holding serving.properties.

Fixed mtime, owner and mode, and a gzip header without a timestamp: the same plan gives the same asset
hash, so re-synthesizing never shows a spurious diff or re-uploads the asset.

The archive is handed to CDK's asset staging (which copies it into the cloud assembly) from a private
directory: mkdtemp (mode 0700, unpredictable name) and O_CREAT | O_EXCL | O_NOFOLLOW, so nothing another user
plants in a shared $TMPDIR (a symlink, a pre-made folder) is followed or overwritten. The asset hash does not
depend on that path: CDK fingerprints a single file by its content and its base name (model.tar.gz).
"""
from __future__ import annotations

import atexit
import gzip
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

ARCHIVE_NAME = "model.tar.gz"


def tarball_bytes(files: dict[str, str]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            data = files[name].encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


_PRIVATE_DIRS: list[str] = []


def _remove_private_dirs() -> None:
    while _PRIVATE_DIRS:
        shutil.rmtree(_PRIVATE_DIRS.pop(), ignore_errors=True)


atexit.register(_remove_private_dirs)


def write_tarball(files: dict[str, str]) -> Path:
    """Write the archive into a new private temp folder (CDK stages it into the cloud assembly by hash).

    The folder lives until the process exits: CDK reads the source again when asset staging is disabled
    (context aws:cdk:disable-asset-staging), so it must outlast synthesis.
    """
    data = tarball_bytes(files)
    folder = tempfile.mkdtemp(prefix="lmi-endpoints-")  # 0700, created with O_EXCL semantics
    _PRIVATE_DIRS.append(folder)
    path = Path(folder) / ARCHIVE_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path
