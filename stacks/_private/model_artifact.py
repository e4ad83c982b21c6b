"""A byte-for-byte reproducible model.tar.gz holding serving.properties.

Fixed mtime, owner and mode, and a gzip header without a timestamp: the same plan gives the same asset
hash, so re-synthesizing never shows a spurious diff or re-uploads the asset.
"""
from __future__ import annotations

import gzip
import hashlib
import io
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


def write_tarball(files: dict[str, str]) -> Path:
    """Write the archive to a content-addressed temp folder (CDK stages it into cdk.out by hash)."""
    data = tarball_bytes(files)
    folder = Path(tempfile.gettempdir()) / "lmi-endpoints" / hashlib.sha256(data).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ARCHIVE_NAME
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    return path
