"""MediaPipe model files: found in the search folders, downloaded on first use from a real
HTTP server on loopback (success, wrong hash, cut connection, no network), and the
import-time MediaPipe check."""

from __future__ import annotations

import http.server
import os
import socket
import threading

import pytest

from models.core.errors import DreamActorError
from models.extract import model_files
from models.extract.mediapipe_check import _version_tuple, mediapipe_problem
from models.extract.model_files import MODEL_FILES, ModelFile, download, model_path, sha256_of

NAME = "hand_landmarker.task"


class _Handler(http.server.BaseHTTPRequestHandler):
    """GET /good: the body; /cut: headers promise the whole body, half is sent, then the socket closes."""

    body = b""

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        if self.path == "/cut":
            self.wfile.write(self.body[: len(self.body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(mediapipe_models):
    """A loopback HTTP server serving the real hand_landmarker.task; yields its base URL."""
    with open(os.path.join(mediapipe_models, NAME), "rb") as f:
        _Handler.body = f.read()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_download_writes_the_checked_file_and_reports_progress(served, tmp_path):
    seen = []
    path = download(NAME, str(tmp_path), progress=lambda d, t: seen.append((d, t)), url=f"{served}/good")
    assert path == str(tmp_path / NAME) and sha256_of(path) == MODEL_FILES[NAME].sha256
    assert seen[-1] == (len(_Handler.body), len(_Handler.body)) and len(seen) > 10
    assert os.listdir(tmp_path) == [NAME]  # no temporary file left


def test_wrong_hash_leaves_nothing_behind(served, tmp_path, monkeypatch):
    monkeypatch.setitem(MODEL_FILES, NAME, ModelFile(NAME, MODEL_FILES[NAME].url, "0" * 64, 7.8, "hands"))
    with pytest.raises(DreamActorError) as e:
        download(NAME, str(tmp_path), url=f"{served}/good")
    assert "sha256" in str(e.value) and MODEL_FILES[NAME].url in e.value.fix
    assert os.listdir(tmp_path) == []


def test_cut_connection_leaves_nothing_behind(served, tmp_path):
    with pytest.raises(DreamActorError) as e:
        download(NAME, str(tmp_path), url=f"{served}/cut")
    assert NAME in str(e.value) and str(tmp_path) in e.value.fix and MODEL_FILES[NAME].url in e.value.fix
    assert os.listdir(tmp_path) == []


def test_no_network_names_file_url_and_folder(tmp_path):
    with socket.socket() as s:  # a loopback port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DreamActorError) as e:
        download(NAME, str(tmp_path), url=f"http://127.0.0.1:{port}/{NAME}", timeout=5)
    msg = str(e.value)
    assert NAME in msg and MODEL_FILES[NAME].url in msg and str(tmp_path) in msg
    assert os.listdir(tmp_path) == []


def test_every_model_file_is_pinned_and_another_file_under_its_name_is_refused(served, tmp_path):
    """All five files carry a sha256; the real hand file served as the lite pose model is refused."""
    assert all(len(m.sha256) == 64 for m in MODEL_FILES.values())
    assert len({m.sha256 for m in MODEL_FILES.values()}) == len(MODEL_FILES)
    with pytest.raises(DreamActorError, match="sha256"):
        download("pose_landmarker_lite.task", str(tmp_path), url=f"{served}/good")
    assert os.listdir(tmp_path) == []


def test_model_path_looks_in_the_folders_first_then_downloads_into_the_first(mediapipe_models, tmp_path, monkeypatch):
    monkeypatch.setenv(model_files.ENV_FOLDERS, os.pathsep.join([str(tmp_path), mediapipe_models]))
    assert model_path(NAME) == os.path.join(mediapipe_models, NAME)
    monkeypatch.setenv(model_files.ENV_FOLDERS, "")
    monkeypatch.setattr(model_files, "_folders", [])
    with pytest.raises(DreamActorError, match="no folder is set"):
        model_path(NAME)


def test_the_installed_mediapipe_passes_the_import_check_and_versions_compare():
    assert mediapipe_problem() is None
    assert _version_tuple("0.10.21") < (1, 2) <= _version_tuple("1.2.3") and _version_tuple("1.10.0rc1") > (1, 2)


@pytest.mark.parametrize(
    "init, expect",
    [
        ('__version__ = "0.10.21"\n', "0.10.21 is installed but its Tasks API does not load"),
        ('raise ImportError("libmediapipe.so: cannot open shared object file")\n', "cannot be imported"),
    ],
)
def test_a_broken_or_old_mediapipe_gives_one_message(tmp_path, init, expect):
    """A real package named mediapipe on the path ahead of the installed one, as another pack's
    partial install would leave it; the check runs in a fresh interpreter."""
    import subprocess
    import sys

    (tmp_path / "mediapipe").mkdir()
    (tmp_path / "mediapipe" / "__init__.py").write_text(init)
    code = "from models.extract.mediapipe_check import mediapipe_problem; print(mediapipe_problem())"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{root}"},
    )
    assert expect in out.stdout, out.stdout + out.stderr
