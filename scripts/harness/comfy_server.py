"""Start the real ComfyUI host (set up by scripts/harness/setup.sh) and talk to its HTTP API.

Used by `make serve`, `make demo`, the host tests and the browser tests:

    with ComfyServer() as server:           # free loopback port, pack loaded
        result = server.run(prompt)         # POST /prompt, poll /history
        print(server.url)
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo root
HOST = os.path.join(ROOT, ".host")
COMFY = os.path.join(HOST, "comfyui")
BASE = os.path.join(HOST, "base")
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")


class PromptError(RuntimeError):
    """The server refused a prompt or its execution failed; ``details`` holds the server's JSON."""

    def __init__(self, message: str, details: dict):
        super().__init__(message)
        self.details = details


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(port: int, base: str = BASE, extra_config: str | None = None) -> list[str]:
    """The command line that runs ComfyUI on loopback with the pack (HOST-NOTES pitfall 6);
    ``extra_config``: an extra_model_paths YAML (used for extra custom node folders)."""
    cmd = [
        PYTHON,
        os.path.join(COMFY, "main.py"),
        "--cpu",
        "--listen",
        "127.0.0.1",
        "--port",
        str(port),
        "--base-directory",
        base,
        "--database-url",
        "sqlite:///:memory:",
        "--disable-auto-launch",
    ]
    if extra_config:
        cmd += ["--extra-model-paths-config", extra_config]
    return cmd


def link_extra_nodes(folder: str, packs: list[str]) -> str:
    """Link each custom node folder in ``packs`` into ``folder`` and write an
    extra_model_paths YAML that makes ComfyUI load them too; returns the YAML's path.
    Only the server started with it sees them: the base directory is left alone."""
    os.makedirs(folder, exist_ok=True)
    for pack in packs:
        link = os.path.join(folder, os.path.basename(os.path.normpath(pack)))
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.abspath(pack), link)
    path = os.path.join(folder, "extra_nodes.yaml")
    with open(path, "w") as f:
        f.write(f"dreamactor_extra_nodes:\n  custom_nodes: {json.dumps(os.path.abspath(folder))}\n")
    return path


class ComfyServer:
    def __init__(
        self,
        port: int | None = None,
        base: str = BASE,
        log_path: str | None = None,
        extra_nodes: list[str] | None = None,
    ):
        """``extra_nodes``: more custom node folders to load beside the ones in ``base``
        (e.g. tests/test_nodes_pack); none by default."""
        self.port = port or free_port()
        self.base = base
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or os.path.join(HOST, f"server-{self.port}.log")
        self.proc: subprocess.Popen | None = None
        self.extra_nodes = list(extra_nodes or [])
        self.extra_folder = os.path.join(HOST, f"extra_nodes-{self.port}") if self.extra_nodes else None

    # ---------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 180.0) -> "ComfyServer":
        if not os.path.exists(os.path.join(COMFY, "main.py")):
            raise RuntimeError("ComfyUI is not set up: run `make setup` first")
        self._log = open(self.log_path, "w")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        extra = link_extra_nodes(self.extra_folder, self.extra_nodes) if self.extra_nodes else None
        self.proc = subprocess.Popen(
            command(self.port, self.base, extra), cwd=COMFY, stdout=self._log, stderr=subprocess.STDOUT, env=env
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ComfyUI exited at start; see {self.log_path}:\n{self.log_tail()}")
            try:
                self.get("/object_info/DreamActorLoadVideo")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.3)
        raise RuntimeError(f"ComfyUI did not answer in {timeout}s; see {self.log_path}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None
        if self.extra_folder and os.path.isdir(self.extra_folder):
            shutil.rmtree(self.extra_folder)  # links and the YAML only

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log_tail(self, n: int = 60) -> str:
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # --------------------------------------------------------------------- http
    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=30) as r:
            return json.loads(r.read())

    def post(self, path: str, data: dict) -> dict:
        req = urllib.request.Request(
            self.url + path, data=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                body = r.read()
                return json.loads(body) if body else {}
        except urllib.error.HTTPError as e:
            body = e.read().decode(errors="replace")
            try:
                details = json.loads(body)
            except ValueError:
                details = {"body": body}
            raise PromptError(f"POST {path} -> {e.code}: {body[:2000]}", details) from None

    # ------------------------------------------------------------------ prompts
    def queue(self, prompt: dict, client_id: str = "dreamactor-tests") -> str:
        return self.post("/prompt", {"prompt": prompt, "client_id": client_id})["prompt_id"]

    def wait(self, prompt_id: str, timeout: float = 600.0) -> dict:
        """Poll /history until the prompt finished; raise PromptError on an execution error."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            hist = self.get(f"/history/{prompt_id}")
            if prompt_id in hist:
                entry = hist[prompt_id]
                status = entry.get("status", {})
                if status.get("status_str") == "error" or not status.get("completed", True):
                    msgs = [m for m in status.get("messages", []) if m[0] == "execution_error"]
                    text = msgs[0][1].get("exception_message", "") if msgs else json.dumps(status)[:2000]
                    raise PromptError(text.strip(), entry)
                return entry
            time.sleep(0.25)
        raise TimeoutError(f"prompt {prompt_id} did not finish in {timeout}s\n{self.log_tail()}")

    def run(self, prompt: dict, timeout: float = 600.0) -> dict:
        return self.wait(self.queue(prompt), timeout)

    # -------------------------------------------------------------------- files
    def input_dir(self) -> str:
        return os.path.join(self.base, "input")

    def output_dir(self) -> str:
        return os.path.join(self.base, "output")

    def put_input(self, path: str, name: str | None = None) -> str:
        """Copy a file into the server's input folder; returns the name to use in prompts."""
        name = name or os.path.basename(path)
        dst = os.path.join(self.input_dir(), name)
        if not os.path.exists(dst) or os.path.getsize(dst) != os.path.getsize(path):
            shutil.copyfile(path, dst)
        return name

    def saved_motion_path(self, entry: dict, node: str) -> str:
        """The .motion.npz a DreamActorSaveMotion node wrote (from its report 'saved X [output]: ...')."""
        text = entry["outputs"][node]["text"][0]
        return os.path.join(self.output_dir(), text.split("saved ", 1)[1].split(" [output]", 1)[0])

    def output_path(self, result: dict) -> str:
        """Path of a file from a history 'images' entry ({'filename', 'subfolder', 'type'})."""
        folder = {"output": self.output_dir(), "temp": os.path.join(self.base, "temp"), "input": self.input_dir()}[
            result.get("type", "output")
        ]
        return os.path.join(folder, result.get("subfolder", ""), result["filename"])


def main() -> int:
    """`make serve`: run the server in the foreground until stopped."""
    port = int(os.environ.get("PORT", "8188"))
    print(f"ComfyUI with ComfyUI-DreamActor on http://127.0.0.1:{port}  (Ctrl+C to stop)", flush=True)
    return subprocess.call(command(port), cwd=COMFY)


if __name__ == "__main__":
    sys.exit(main())
