"""Download the standard SR sets (T91, BSDS200, Set5, Set14) into a cache folder, verified.

``SOURCES.tsv`` beside this file pins every file's URL (T91, Set5 and Set14: the original
BMPs of tegg89/SRCNN-Tensorflow at a fixed commit; BSDS200, training only: the PNGs of
the "291" folder of DevKiHyun/VDSR-Tensorflow at a fixed commit), size and SHA-256. ``fetch`` downloads each file
into ``FILE.part``, continues a partial one with an HTTP Range request (restarting when the
server ignores it), checks size and SHA-256 and only then moves it into place with
``os.replace``: after any failure or Ctrl-C the set folder holds only complete, verified
files (plus a ``.part`` to resume from). Every failure is a one-line ``ValueError``.
``base_url`` / ``MINISR_DATA_MIRROR`` point every entry at a mirror. Read next: ``dataset.py``.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

MANIFEST = Path(__file__).with_name("SOURCES.tsv")
COLUMNS = ("set", "file", "bytes", "sha256", "url")
CHUNK = 1 << 16
TIMEOUT_S = 30.0
# What a failed connection looks like from urllib: refused/unresolvable (URLError), reset or
# dropped mid-body (OSError, IncompleteRead, RemoteDisconnected), or stalled (TimeoutError).
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError)


@dataclass(frozen=True)
class Entry:
    """One row of the manifest: a file of a set, its size in bytes, SHA-256 and pinned URL."""
    set: str
    file: str
    bytes: int
    sha256: str
    url: str


def default_cache_dir() -> Path:
    """Where the sets go: ``$MINISR_CACHE/datasets``, else ``$XDG_CACHE_HOME/minisr/datasets``,
    else ``~/.cache/minisr/datasets``. Each set is a subfolder (``T91/``, ``Set5/``, ...)."""
    if os.environ.get("MINISR_CACHE"):
        return Path(os.environ["MINISR_CACHE"]).expanduser() / "datasets"
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root).expanduser() / "minisr" / "datasets"


def read_manifest(path: str | os.PathLike | None = None) -> list[Entry]:
    """Parse a tab-separated manifest (header ``set file bytes sha256 url``); default: the
    package's ``SOURCES.tsv``. A malformed row is a one-line ``ValueError`` naming the line."""
    path = Path(path) if path is not None else MANIFEST
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ValueError(f"fetch: cannot read manifest {str(path)!r}: {e.strerror or e}") from None
    if not lines or tuple(lines[0].split("\t")) != COLUMNS:
        raise ValueError(f"fetch: {str(path)!r}: header must be {' '.join(COLUMNS)!r} (tabs)")
    entries = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            set_name, name, size, sha, url = fields
            entry = Entry(set_name, name, int(size), sha.lower(), url)
        except ValueError:
            raise ValueError(f"fetch: {str(path)!r} line {number}: expected 5 tab-separated "
                             f"fields (set, file, bytes, sha256, url)") from None
        # The file name becomes a path in the cache: no folders, no '..', a real hex digest.
        if (not name or name != os.path.basename(name) or name.startswith(".")
                or len(entry.sha256) != 64 or set(entry.sha256) - set("0123456789abcdef")):
            raise ValueError(f"fetch: {str(path)!r} line {number}: bad file name or sha256")
        entries.append(entry)
    return entries


def _url(entry: Entry, base_url: str | None) -> str:
    """The pinned URL, or ``base_url`` + the file name (``{set}`` in base_url -> the set)."""
    base_url = base_url or os.environ.get("MINISR_DATA_MIRROR") or None
    if base_url is None:
        return entry.url
    base = base_url.replace("{set}", entry.set)
    return base.rstrip("/") + "/" + urllib.parse.quote(entry.file)


def _sha256(path: Path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h


def _is_valid(path: Path, entry: Entry) -> bool:
    return (path.is_file() and path.stat().st_size == entry.bytes
            and _sha256(path).hexdigest() == entry.sha256)


def _offline(url: str, e: BaseException, part: Path) -> ValueError:
    reason = f"{type(e).__name__}: {getattr(e, 'reason', None) or e}"
    if isinstance(e, http.client.IncompleteRead):
        reason = f"connection closed {e.expected:,} bytes short"
    kept = ""
    if part.is_file():
        kept = f"; {part.stat().st_size:,} bytes kept in {part.name} to resume"
    return ValueError(f"fetch: could not reach {url} ({reason}); "
                      f"the machine may be offline{kept}")


def _download(entry: Entry, url: str, folder: Path, bar) -> None:
    """Download one file into ``folder/FILE.part`` (resuming it), verify, rename into place."""
    final, part = folder / entry.file, folder / (entry.file + ".part")
    done = part.stat().st_size if part.is_file() else 0
    if done > entry.bytes:  # longer than the file can be: not a prefix of it
        part.unlink()
        done = 0
    request = urllib.request.Request(url, headers={"User-Agent": "minisr"})
    if 0 < done < entry.bytes:
        request.add_header("Range", f"bytes={done}-")
    try:
        if done == entry.bytes:  # a complete .part from an interrupted rename
            h = _sha256(part)
        else:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:
                resumed = (done > 0 and resp.status == 206 and resp.headers.get(
                    "Content-Range", "").startswith(f"bytes {done}-"))
                if not resumed:  # no .part, or the server ignored Range: start over
                    bar.update(-done)
                    done = 0
                h = _sha256(part) if resumed else hashlib.sha256()
                with open(part, "ab" if resumed else "wb") as f:
                    # Read at most one byte past the expected size, to detect a longer file.
                    while done <= entry.bytes and (chunk := resp.read(
                            min(CHUNK, entry.bytes + 1 - done))):
                        f.write(chunk)
                        h.update(chunk)
                        done += len(chunk)
                        bar.update(len(chunk))
                # http.client returns b'' when the peer hangs up early; length is what the
                # server announced and did not send (0: it sent all of a shorter file).
                left = getattr(resp, "length", None)  # file:// responses have none
                if done < entry.bytes and left != 0:
                    raise http.client.IncompleteRead(b"", left or entry.bytes - done)
    except urllib.error.HTTPError as e:
        if e.code == 416 and part.is_file():  # our Range is past the server's end: restart
            bar.update(-done)
            part.unlink()
            return _download(entry, url, folder, bar)  # no .part now, so no Range, no loop
        raise ValueError(f"fetch: {url}: the server answered HTTP {e.code} {e.reason}") from None
    except _NETWORK_ERRORS as e:
        if not isinstance(e, urllib.error.URLError) and getattr(e, "filename", None):  # disk
            raise ValueError(f"fetch: cannot write {e.filename!r}: {e.strerror or e}") from None
        raise _offline(url, e, part) from None
    if done != entry.bytes or h.hexdigest() != entry.sha256:
        part.unlink()
        got = (f"SHA-256 {h.hexdigest()}" if done == entry.bytes else f"{done:,} bytes"
               if done < entry.bytes else f"more than {entry.bytes:,} bytes")
        raise ValueError(f"fetch: {entry.set}/{entry.file} from {url}: expected {entry.bytes:,}"
                         f" bytes with SHA-256 {entry.sha256}, got {got} (partial file removed)")
    os.replace(part, final)


def fetch(name: str, dest_dir: str | os.PathLike | None = None, base_url: str | None = None,
          progress: bool = True, manifest: Sequence[Entry] | str | os.PathLike | None = None
          ) -> Path:
    """Download set ``name`` (T91, BSDS200, Set5 or Set14) and return its folder ``dest_dir/name``.

    Files already present with the right SHA-256 are skipped, so a second call makes no
    request. ``dest_dir`` defaults to ``default_cache_dir()``; ``base_url`` (or the
    ``MINISR_DATA_MIRROR`` environment variable) replaces scheme, host and folder of every
    pinned URL, keeping the file name, with ``{set}`` standing for the set's name, e.g.
    ``http://127.0.0.1:8000/{set}/`` or ``file:///mnt/mirror/``. ``manifest`` is a list of
    ``Entry`` or a TSV path (default: the package's ``SOURCES.tsv``).

    Raises ``ValueError`` (one line) for an unknown set, a hash mismatch (the partial file is
    removed), an HTTP error, or an unreachable server (the ``.part`` is kept for resume).
    """
    if manifest is None or isinstance(manifest, (str, os.PathLike)):
        manifest = read_manifest(manifest)
    entries = [e for e in manifest if e.set == name]
    if not entries:
        known = ", ".join(dict.fromkeys(e.set for e in manifest))
        raise ValueError(f"fetch: unknown set {name!r} (choose from {known})")
    folder = Path(dest_dir if dest_dir is not None else default_cache_dir()).expanduser() / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"fetch: cannot create {str(folder)!r}: {e.strerror or e}") from None
    todo = [e for e in entries if not _is_valid(folder / e.file, e)]
    if not todo:
        return folder
    from tqdm import tqdm  # only when there is something to download
    parts = [folder / (e.file + ".part") for e in todo]
    resumed = sum(min(p.stat().st_size, e.bytes) for p, e in zip(parts, todo) if p.is_file())
    with tqdm(total=sum(e.bytes for e in todo), initial=resumed, unit="B", unit_scale=True,
              unit_divisor=1024, desc=f"fetch {name}", disable=not progress, leave=False) as bar:
        for entry in todo:
            _download(entry, _url(entry, base_url), folder, bar)
    return folder


# ---- command line: minisr data fetch SET [--dir DIR] [--mirror URL] ----------------------

def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``minisr data``: the ``fetch`` action and its options."""
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    f = sub.add_parser("fetch", help="download a set, verifying each file's SHA-256",
                       description="Download a set into DIR/SET, verifying each file's SHA-256;"
                       " an interrupted download resumes where it stopped.")
    f.add_argument("set", choices=list(dict.fromkeys(e.set for e in read_manifest())),
                   help="which set")
    f.add_argument("--dir", help=f"cache folder (default: {default_cache_dir()}; "
                   "$MINISR_CACHE or $XDG_CACHE_HOME move it)")
    f.add_argument("--mirror", metavar="URL", help="base URL replacing the pinned host and folder "
                   "({set} -> the set's name; default: $MINISR_DATA_MIRROR)")
    f.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """``minisr data fetch``: download, then print one line (folder, files, bytes)."""
    import sys
    folder = fetch(args.set, args.dir, base_url=args.mirror,
                   progress=not args.no_progress and sys.stderr.isatty())
    entries = [e for e in read_manifest() if e.set == args.set]
    print(f"{args.set}: {len(entries)} files, {sum(e.bytes for e in entries):,} bytes "
          f"verified in {folder}")
    return 0


__all__ = ["CHUNK", "COLUMNS", "Entry", "MANIFEST", "TIMEOUT_S", "add_arguments",
           "default_cache_dir", "fetch", "read_manifest", "run"]
