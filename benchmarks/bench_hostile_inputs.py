"""The hostile-input matrix (tests/host/test_hostile_inputs.py) before and after issue 14,
side by side: for each case, whether the pack refused it with its own message (or the host's
range check), and the server's peak memory growth during it (VmHWM after a ``clear_refs``
reset, minus the resident memory before).

"before" is the pack at commit ``BEFORE`` (the tree before issue 14), extracted with
``git archive`` into a temporary base folder that shares this checkout's host and venv;
"after" is this checkout. Each gets its own server, one after the other, on the same files.
Cases that cost the "before" server gigabytes are skipped there unless ``--all`` is given
(``fps 1e9`` got the server killed for memory; the 16000x16000 PNG took about 6 GB).
Run: ``python -m benchmarks.bench_hostile_inputs [--all]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

from scripts.harness import fetch_media
from scripts.harness.comfy_server import ComfyServer
from tests.host import test_hostile_inputs as T

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BEFORE = "2a7d31e"
HEAVY_BEFORE = {"fps 1e9", "video 16000x16000 png as mp4"}


class _TmpFactory:
    def mktemp(self, name):
        return tempfile.mkdtemp(prefix=name)


def run_matrix(base: str, skip: set[str]) -> dict[str, tuple[str, float]]:
    """case -> (verdict, peak growth MB) on a server over ``base``: 'refused' (the expected message),
    'ACCEPTED' (it ran), 'other error' (raw, or not naming the input) or 'skipped'."""
    server = ComfyServer(base=base).start()
    results = {}
    try:
        T.INPUT[0], T.OUTPUT[0] = server.input_dir(), server.output_dir()
        files_gen = T.bad.__wrapped__(server, fetch_media.fetch, _TmpFactory())
        files = next(files_gen)
        pid = server.proc.pid
        for case, make, expect in T.CASES:
            if case in skip:
                results[case] = ("skipped", float("nan"))
                continue
            T.reset_peak(pid)
            before = T.rss(pid)
            kind, errors = T.outcome(server, make(files))
            peak = (T.peak_rss(pid) - before) / 2**20
            try:
                if expect[0] == "pack":
                    T.assert_pack_error(kind, errors, expect[1], expect[2])
                else:
                    T.assert_range_error(kind, errors, expect[1])
                verdict = "refused"
            except AssertionError:
                verdict = "ACCEPTED" if kind == "ok" else "other error"
            results[case] = (verdict, peak)
        next(files_gen, None)
    finally:
        server.stop()
    return results


def before_base(folder: str) -> str:
    """A ComfyUI base folder whose only custom node pack is the tree at BEFORE."""
    tree = os.path.join(folder, "tree")
    os.makedirs(tree)
    archive = subprocess.run(["git", "-C", ROOT, "archive", BEFORE], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
    base = os.path.join(folder, "base")
    for sub in ("custom_nodes", "input", "output", os.path.join("user", "default")):
        os.makedirs(os.path.join(base, sub))
    os.symlink(tree, os.path.join(base, "custom_nodes", "ComfyUI-DreamActor"))
    return base


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also run the cases that cost 'before' gigabytes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_hostile_") as folder:
        old = run_matrix(before_base(folder), set() if args.all else HEAVY_BEFORE)
    new = run_matrix(os.path.join(ROOT, ".host", "base"), set())
    print(f"{'case':44s} {'before ' + BEFORE:>28s} {'after (this tree)':>28s}")
    for case, _, _ in T.CASES:
        (v0, m0), (v1, m1) = old[case], new[case]
        print(f"{case[:44]:44s} {v0:>12s} {m0:+9.0f} MB      {v1:>12s} {m1:+9.0f} MB")
    for name, res in (("before", old), ("after", new)):
        ran = [v for v, _ in res.values() if v != "skipped"]
        print(f"{name}: {ran.count('refused')} of {len(ran)} cases run refused cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
