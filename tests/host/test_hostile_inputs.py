"""Hostile and careless input through the real server (issue 14): one table of bad inputs.

Every case is queued to the same server; each must end in a message from the pack that
names the node, the input and a fix (or in the host's own range check, for values outside
a declared range), never in raw exception text; the server must keep answering, no case may
read a file outside ComfyUI's folders, and no case may grow the server's peak memory by
1.5 GB or leave it grown after the run.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import urllib.error
import urllib.request
import zipfile
import zlib
from fractions import Fraction

import av
import numpy as np
import psutil
import pytest

from models.core.motion import Motion
from scripts.harness.comfy_server import PromptError

pytestmark = pytest.mark.host

GB = 1 << 30
MEMORY_BUDGET = int(1.5 * GB)
KEPT_BUDGET = 512 << 20
NAN, INF = float("nan"), float("inf")


# ------------------------------------------------------------------------ files to feed
def write_clip(path: str, n: int = 12, side: int = 64, fps: int = 12) -> str:
    """A tiny H.264 clip without sound: frame i is uniform grey 10 * i."""
    with av.open(path, "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width = s.height = side
        s.pix_fmt = "yuv420p"
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(np.full((side, side, 3), 10 * i, np.uint8), format="rgb24")
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
    return path


def write_pts0_clip(path: str, n: int = 20, side: int = 64) -> str:
    """A Matroska clip whose packets all carry pts 0 and dts 0 (a broken muxer's output)."""
    with av.open(path, "w", format="matroska") as c:
        s = c.add_stream("mpeg4", rate=30)
        s.width = s.height = side
        s.pix_fmt = "yuv420p"
        packets = []
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(np.full((side, side, 3), 10 * i, np.uint8), format="rgb24")
            frame.pts = i
            packets += s.encode(frame)
        packets += s.encode(None)
        for p in packets:
            p.pts = p.dts = 0
            c.mux(p)
    return path


def write_huge_png(path: str, side: int = 16000) -> str:
    """A black side x side greyscale PNG streamed row by row (a few hundred KB on disk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    z = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def good_motion(T: int = 6) -> Motion:
    m = Motion.empty(T, (64, 64), 12.0)
    m.joints3d[..., 2] = 3.0
    m.valid[:] = True
    m.conf[:] = 0.9
    return m


def write_motion(path: str, **changes) -> str:
    """A valid motion file with some arrays replaced (validation skipped, as a careless tool would)."""
    arrays = good_motion().to_arrays()
    arrays.update(changes)
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


def write_motion_bomb(path: str, extra_bytes: int) -> str:
    """A valid motion file plus an extra key of ``extra_bytes`` zeros (compresses ~1000:1)."""
    write_motion(path)
    n = extra_bytes // 8
    header = np.lib.format.header_data_from_array_1_0(np.zeros(0))
    header["shape"] = (n,)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("padding.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, header)
            block = bytes(8 << 20)
            for _ in range(extra_bytes // len(block)):
                f.write(block)
    return path


VFR_SIDE = 64
BEEPS = (0.5, 1.5, 2.5)


def vfr_times() -> np.ndarray:
    """Timestamps (s) of the variable-rate clip: 1 s at 30 fps, 1 s at 60 fps, 1 s at 30 fps."""
    return np.concatenate([np.arange(30) / 30, 1 + np.arange(60) / 60, 2 + np.arange(30) / 30])


def code_frame(i: int) -> np.ndarray:
    """Frame i shows i in binary as 8 black/white bars (survives lossy coding)."""
    bits = [(i >> b) & 1 for b in range(8)]
    row = np.repeat(np.asarray(bits, np.uint8) * 255, VFR_SIDE // 8)
    return np.repeat(np.repeat(row[None, :, None], VFR_SIDE, 0), 3, 2)


def read_code(rgb):
    bars = rgb[:, :, 1].reshape(VFR_SIDE, 8, VFR_SIDE // 8).mean((0, 2))
    return int(sum(1 << b for b in range(8) if bars[b] > 128))


def write_vfr_clip(path: str) -> str:
    """H.264 + AAC mp4 with explicit frame times (vfr_times) and 50 ms beeps at BEEPS seconds."""
    tb = Fraction(1, 600)
    with av.open(path, "w") as c:
        v = c.add_stream("libx264", rate=60)
        v.width = v.height = VFR_SIDE
        v.pix_fmt = "yuv420p"
        v.codec_context.time_base = tb
        a = c.add_stream("aac", rate=44100)
        a.layout = "mono"
        for i, t in enumerate(vfr_times()):
            f = av.VideoFrame.from_ndarray(code_frame(i), format="rgb24")
            f.pts, f.time_base = int(round(t * 600)), tb
            c.mux(v.encode(f))
        c.mux(v.encode(None))
        n = int(3.0 * 44100)
        t = np.arange(n) / 44100
        wave = np.zeros(n, np.float32)
        for b in BEEPS:
            on = (t >= b) & (t < b + 0.05)
            wave[on] = 0.5 * np.sin(2 * np.pi * 1000 * t[on])
        for k in range(0, n, 1024):
            chunk = wave[k : k + 1024][None]
            f = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="flt", layout="mono")
            f.sample_rate, f.pts, f.time_base = 44100, k, Fraction(1, 44100)
            c.mux(a.encode(f))
        c.mux(a.encode(None))
    return path


def beep_onsets(wave: np.ndarray, rate: int) -> list[float]:
    """Start times (s) of the beeps in a mono waveform (N,)."""
    on = np.flatnonzero(np.abs(wave) > 0.1)
    return [on[0] / rate] + [on[i] / rate for i in range(1, len(on)) if on[i] - on[i - 1] > rate // 10]


# ------------------------------------------------------------------------------ prompts
def load_video(video, **over):
    """Load Video -> Save Video (a prompt needs an output node to run)."""
    inputs = {"video": video, "start_frame": 0, "frame_count": 0, "every_nth": 1, "fps": 0.0, **over}
    save = {"video": ["1", 0], "fps": 24.0, "crf": 30, "filename_prefix": "tests/hostile"}
    return {
        "1": {"class_type": "DreamActorLoadVideo", "inputs": inputs},
        "9": {"class_type": "DreamActorSaveVideo", "inputs": save},
    }


def save_motion(prompt, node):
    prompt["8"] = {
        "class_type": "DreamActorSaveMotion",
        "inputs": {"motion": [node, 0], "filename_prefix": "tests/hostile"},
    }
    return prompt


def load_motion(file):
    return {
        "1": {"class_type": "DreamActorLoadMotion", "inputs": {"file": file}},
        "2": {"class_type": "DreamActorSaveMotion", "inputs": {"motion": ["1", 0], "filename_prefix": "tests/hostile"}},
    }


def skeleton_extract(clip, frame_count=0, **over):
    p = load_video(clip, frame_count=frame_count)
    inputs = {
        "video": ["1", 0],
        "person": 0,
        "hands": False,
        "face": False,
        "smooth": True,
        "min_cutoff": 1.0,
        "beta": 1.0,
        "fill_gaps": 8,
        **over,
    }
    p["2"] = {"class_type": "DreamActorSkeletonExtract", "inputs": inputs}
    return save_motion(p, "2")


def head_sphere(motion_file, smoothing):
    p = {"1": {"class_type": "DreamActorLoadMotion", "inputs": {"file": motion_file}}}
    p["2"] = {
        "class_type": "DreamActorHeadSphereFit",
        "inputs": {"motion": ["1", 0], "smoothing": smoothing, "max_hold": 12},
    }
    return save_motion(p, "2")


def face_encode(clip, motion_file, **over):
    p = load_video(clip)
    p["2"] = {"class_type": "DreamActorLoadMotion", "inputs": {"file": motion_file}}
    inputs = {"video": ["1", 0], "motion": ["2", 0], "size": 64, "scale": 1.2, "smoothing": 2.0, **over}
    p["3"] = {"class_type": "DreamActorFaceEncode", "inputs": inputs}
    p["4"] = {"class_type": "PreviewImage", "inputs": {"images": ["3", 1]}}
    return p


# ------------------------------------------------------------------------------ outcome
def with_defaults(server, prompt: dict) -> dict:
    """``prompt`` with every required input it leaves out set to the node's default (read from
    /object_info), so a case keeps testing its one bad value when nodes gain inputs."""
    for node in prompt.values():
        spec = server.get(f"/object_info/{node['class_type']}")[node["class_type"]]
        for name, (kind, *opts) in spec["input"].get("required", {}).items():
            if name not in node["inputs"]:
                default = opts[0].get("default") if opts else None
                node["inputs"][name] = default if default is not None else kind[0]
    return prompt


def outcome(server, prompt) -> tuple[str, list[dict]]:
    """Queue ``prompt``: ('ok', []) | ('validation', errors) | ('execution', [error message]).
    A prompt the host accepts while refusing some of its nodes (it then runs the other
    outputs) counts as refused at validation."""
    try:
        answer = server.post("/prompt", {"prompt": with_defaults(server, prompt), "client_id": "hostile"})
        errors = [err for ne in answer.get("node_errors", {}).values() for err in ne.get("errors", [])]
        if errors:
            try:  # let the outputs it did accept finish, so the next case starts on an idle server
                server.wait(answer["prompt_id"], timeout=90)
            except (PromptError, TimeoutError):
                pass
            return "validation", errors
        entry = server.wait(answer["prompt_id"], timeout=90)
    except TimeoutError:
        server.post("/interrupt", {})
        return "timeout", [{"exception_message": "no answer in 90 s"}]
    except PromptError as e:
        d = e.details
        if "node_errors" in d or "error" in d:
            errors = [err for ne in d.get("node_errors", {}).values() for err in ne.get("errors", [])]
            return "validation", errors or [d.get("error", {})]
        msgs = [m[1] for m in d.get("status", {}).get("messages", []) if m[0] == "execution_error"]
        return "execution", msgs
    return "ok", [entry]


def pack_message(kind: str, errors: list[dict]) -> str:
    if kind == "validation":
        return " ".join(str(e.get("details", "")) for e in errors)
    if kind == "execution":
        return " ".join(e.get("exception_message", "") for e in errors)
    return ""


def assert_pack_error(kind, errors, node, input):
    """The pack's own message naming node, input and a fix; no raw exception."""
    assert kind in ("validation", "execution"), f"{node}.{input}: accepted ({kind})"
    text = pack_message(kind, errors)
    assert f"[{node}, input '{input}']" in text and "Fix:" in text, f"{node}.{input}: {kind}: {text[:600]}"
    if kind == "execution":
        types = {e.get("exception_type", "") for e in errors}
        assert all(t.endswith("DreamActorError") for t in types), f"raw exception {types}: {text[:400]}"
    return text


def assert_range_error(kind, errors, input):
    """The host's own check of a declared range refused the value before the node ran."""
    assert kind == "validation", f"{input}: {kind}: {pack_message(kind, errors)[:400]}"
    types = {e.get("type") for e in errors}
    assert types & {"value_bigger_than_max", "value_smaller_than_min"}, f"{input}: {errors}"
    assert any(e.get("extra_info", {}).get("input_name") == input for e in errors), errors


def rss(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


def peak_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def bad(server, media, tmp_path_factory):
    """The bad files, made once: in the input folder, in output/, and outside both."""
    inp, out = server.input_dir(), server.output_dir()
    outside = str(tmp_path_factory.mktemp("outside"))
    files = {"outside": outside}
    files["secret_video"] = shutil.copyfile(media("single_face.mp4"), os.path.join(outside, "secret.mp4"))
    files["secret_motion"] = write_motion(os.path.join(outside, "secret.motion.npz"))
    for name, target in (
        ("hostile_link.mp4", files["secret_video"]),
        ("hostile_link.motion.npz", files["secret_motion"]),
    ):
        link = os.path.join(inp, name)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
    write_clip(os.path.join(inp, "hostile_tiny.mp4"))
    shutil.copyfile(media("single_face.mp4"), os.path.join(inp, "hostile_one_person.mp4"))
    write_pts0_clip(os.path.join(inp, "hostile_pts0.mkv"))
    write_huge_png(os.path.join(inp, "hostile_png16000.mp4"))
    write_huge_png(os.path.join(inp, "hostile_png9000.mp4"), side=9000)
    write_motion(os.path.join(inp, "hostile_good.motion.npz"))
    cam = good_motion().camera
    write_motion(os.path.join(inp, "hostile_nan_camera.motion.npz"), camera=np.where(np.eye(3) > 0, NAN, cam))
    write_motion(os.path.join(inp, "hostile_zero_focal.motion.npz"), camera=cam * [[0], [0], [1]])
    hands = good_motion().hands2d
    hands[2, 0, 5] = NAN
    write_motion(os.path.join(inp, "hostile_nan_hands.motion.npz"), hands2d=hands)
    write_motion(os.path.join(inp, "hostile_fps_shape.motion.npz"), fps=np.asarray([12.0, 24.0]))
    write_motion(os.path.join(inp, "hostile_size_shape.motion.npz"), image_size=np.asarray([64]))
    write_motion(os.path.join(inp, "hostile_nan_fps.motion.npz"), fps=np.asarray(NAN))
    write_motion(os.path.join(inp, "hostile_neg_radius.motion.npz"), head_radius=-np.ones(6, np.float32))
    write_motion_bomb(os.path.join(inp, "hostile_bomb.motion.npz"), 512 << 20)
    with open(os.path.join(inp, "hostile_not_video.mp4"), "wb") as f:
        f.write(b"\x00" * 64)
    os.makedirs(os.path.join(out, "tests"), exist_ok=True)
    yield files
    for name in os.listdir(inp):  # the module's files (and the VFR test's) leave the input folder
        if name.startswith("hostile_"):
            os.unlink(os.path.join(inp, name))


LV, LM = "DreamActorLoadVideo", "DreamActorLoadMotion"
SE, HS, FE = "DreamActorSkeletonExtract", "DreamActorHeadSphereFit", "DreamActorFaceEncode"

# (case id, prompt maker (bad files -> prompt), expectation): expectation is
# ("pack", node, input, *words in the message) or ("range", input).
CASES = [
    # 1. files outside ComfyUI's folders
    ("video absolute path", lambda b: load_video(b["secret_video"]), ("pack", LV, "video")),
    ("video ../ escape", lambda b: load_video(os.path.relpath(b["secret_video"], INPUT[0])), ("pack", LV, "video")),
    (
        "video [output] ../ escape",
        lambda b: load_video(os.path.relpath(b["secret_video"], OUTPUT[0]) + " [output]"),
        ("pack", LV, "video"),
    ),
    ("video symlink out", lambda b: load_video("hostile_link.mp4"), ("pack", LV, "video")),
    ("video NUL byte", lambda b: load_video("hostile_tiny.mp4\x00.png"), ("pack", LV, "video")),
    ("video newline name", lambda b: load_video("hostile_tiny.mp4\n"), ("pack", LV, "video")),
    ("video not a video", lambda b: load_video("hostile_not_video.mp4"), ("pack", LV, "video")),
    ("motion absolute path", lambda b: load_motion(b["secret_motion"]), ("pack", LM, "file")),
    ("motion ../ escape", lambda b: load_motion(os.path.relpath(b["secret_motion"], INPUT[0])), ("pack", LM, "file")),
    ("motion symlink out", lambda b: load_motion("hostile_link.motion.npz"), ("pack", LM, "file")),
    ("motion NUL byte", lambda b: load_motion("hostile_good.motion.npz\x00"), ("pack", LM, "file")),
    # 2. budgets
    (
        "video 9000x9000 png as mp4",
        lambda b: load_video("hostile_png9000.mp4"),
        ("pack", LV, "video", "9000x9000", "above the limit of 40 Mpx"),
    ),
    (
        "video 16000x16000 png as mp4",
        lambda b: load_video("hostile_png16000.mp4"),
        ("pack", LV, "video", "above the limit of 40 Mpx"),
    ),
    ("video fps 0.0001 on a silent clip", lambda b: load_video("hostile_tiny.mp4", fps=0.0001), ("pack", LV, "fps")),
    ("motion 512 MB extra key", lambda b: load_motion("hostile_bomb.motion.npz"), ("pack", LM, "file")),
    # 3. declared ranges and non-finite floats
    ("every_nth 1e9", lambda b: load_video("hostile_tiny.mp4", every_nth=10**9), ("range", "every_nth")),
    ("fps 1e9", lambda b: load_video("hostile_tiny.mp4", fps=1e9), ("range", "fps")),
    ("fps -5", lambda b: load_video("hostile_tiny.mp4", fps=-5.0), ("range", "fps")),
    ("start_frame -1", lambda b: load_video("hostile_tiny.mp4", start_frame=-1), ("range", "start_frame")),
    ("fps NaN", lambda b: load_video("hostile_tiny.mp4", fps=NAN), ("pack", LV, "fps")),
    ("fps Inf", lambda b: load_video("hostile_tiny.mp4", fps=INF), ("range", "fps")),
    (
        "skeleton min_cutoff NaN",
        lambda b: skeleton_extract("hostile_tiny.mp4", min_cutoff=NAN),
        ("pack", SE, "min_cutoff"),
    ),
    (
        "skeleton person 3 of 1 (counted as the widget counts)",
        lambda b: skeleton_extract("hostile_one_person.mp4", person=3, frame_count=4),
        ("pack", SE, "person", "person 3 (counted from the left)", "between 1 and 1"),
    ),
    ("skeleton beta NaN", lambda b: skeleton_extract("hostile_tiny.mp4", beta=NAN), ("pack", SE, "beta")),
    ("head sphere smoothing NaN", lambda b: head_sphere("hostile_good.motion.npz", NAN), ("pack", HS, "smoothing")),
    (
        "face encode scale NaN",
        lambda b: face_encode("hostile_tiny.mp4", "hostile_good.motion.npz", scale=NAN),
        ("pack", FE, "scale"),
    ),
    # 3. motion files with bad contents
    ("motion NaN camera", lambda b: load_motion("hostile_nan_camera.motion.npz"), ("pack", LM, "file")),
    ("motion zero focal", lambda b: load_motion("hostile_zero_focal.motion.npz"), ("pack", LM, "file")),
    ("motion NaN hands", lambda b: load_motion("hostile_nan_hands.motion.npz"), ("pack", LM, "file")),
    ("motion fps shape (2,)", lambda b: load_motion("hostile_fps_shape.motion.npz"), ("pack", LM, "file")),
    ("motion image_size shape (1,)", lambda b: load_motion("hostile_size_shape.motion.npz"), ("pack", LM, "file")),
    ("motion NaN fps", lambda b: load_motion("hostile_nan_fps.motion.npz"), ("pack", LM, "file")),
    ("motion negative head radius", lambda b: load_motion("hostile_neg_radius.motion.npz"), ("pack", LM, "file")),
    # 4. broken timestamps
    ("video all pts 0", lambda b: load_video("hostile_pts0.mkv"), ("pack", LV, "video")),
]
INPUT, OUTPUT = [""], [""]  # the server's folders, set by the test before the prompts are made


def test_hostile_input_matrix(server, bad):
    INPUT[0], OUTPUT[0] = server.input_dir(), server.output_dir()
    pid = server.proc.pid
    server.post("/free", {"unload_models": True, "free_memory": True})
    base = rss(pid)
    failures, peaks = [], {}
    for case, make, expect in CASES:
        can_reset = reset_peak(pid)
        before = rss(pid)
        kind, errors = outcome(server, make(bad))
        peaks[case] = (peak_rss(pid) if can_reset else rss(pid)) - before
        try:
            if expect[0] == "pack":
                text = assert_pack_error(kind, errors, expect[1], expect[2])
                for words in expect[3:]:
                    assert words in text, f"'{words}' not in: {text[:400]}"
                assert os.path.dirname(INPUT[0]) not in text, f"the message shows the server's folders: {text[:400]}"
            else:
                assert_range_error(kind, errors, expect[1])
            assert peaks[case] < MEMORY_BUDGET, f"peak memory grew by {peaks[case] / GB:.2f} GB"
        except AssertionError as e:
            failures.append(f"{case}: {str(e).splitlines()[0][:300]}")
        print(f"case '{case}': {kind}, peak +{peaks[case] / 2**20:.0f} MB", flush=True)
        assert server.get("/system_stats")["system"], f"the server stopped answering after '{case}'"
    server.post("/free", {"unload_models": True, "free_memory": True})
    outcome(server, load_video("hostile_tiny.mp4"))  # the free is done before the next prompt
    kept = rss(pid) - base
    print(f"kept after the run: {kept / 2**20:.0f} MB", flush=True)
    if kept >= KEPT_BUDGET:
        failures.append(f"the server kept {kept / 2**20:.0f} MB after the run")
    assert not failures, f"{len(failures)}/{len(CASES)} cases failed:\n" + "\n".join(failures)


def test_missing_and_outside_files_get_the_same_message(server, bad):
    """The refusal does not reveal whether a file exists outside the allowed folders."""
    msgs = []
    for path in (bad["secret_video"], os.path.join(bad["outside"], "no_such_file.mp4")):
        kind, errors = outcome(server, load_video(path))
        msgs.append(pack_message(kind, errors).replace(path, "<name>"))
    assert msgs[0] == msgs[1], msgs


def _preview_post(server, body: bytes) -> int:
    req = urllib.request.Request(
        server.url + "/dreamactor/retarget_preview", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_preview_route_refuses_deep_json_and_trailing_newline(server):
    assert _preview_post(server, b"[" * 4000) == 400
    body = json.dumps({"name": "retarget_1_0123456789ab\n", "frame": 0, "count": 1}).encode()
    assert _preview_post(server, body) == 400


@pytest.mark.parametrize("fps", [25.0, 0.0])
def test_variable_frame_rate_clip_keeps_picture_and_sound_together(server, fps):
    """Frames are chosen by timestamp: each output frame shows the source frame nearest its
    own time (25 fps: within half an output period); the clip's own rate (0) is its highest
    one, so every frame appears, first within half a period of its time; the beeps in the
    saved mp4 sound when the frames of their time are shown."""
    name = "hostile_vfr.mp4"
    write_vfr_clip(os.path.join(server.input_dir(), name))
    entry = server.run(load_video(name, start_frame=10, fps=fps))
    times, t0 = vfr_times(), vfr_times()[10]
    with av.open(server.output_path(entry["outputs"]["9"]["images"][0])) as c:
        stream = c.streams.video[0]
        rate = float(stream.average_rate)
        shown = [read_code(f.to_ndarray(format="rgb24")) for f in c.decode(stream)]
    with av.open(server.output_path(entry["outputs"]["9"]["images"][0])) as c:
        sound = np.concatenate([f.to_ndarray().reshape(f.to_ndarray().shape[0], -1)[0] for f in c.decode(audio=0)])
        sample_rate = c.streams.audio[0].rate
    half = 0.5 / rate
    if fps:
        assert rate == pytest.approx(fps)
        late = max(abs(times[s] - t0 - k / rate) for k, s in enumerate(shown))
        assert late <= half + 1e-6, f"a frame is {late * 1000:.1f} ms off its time (half a period: {half * 1000:.1f})"
    else:
        assert rate == pytest.approx(60.0) and sorted(set(shown)) == list(range(10, 120)), "a frame was lost"
        first = {s: k for k, s in reversed(list(enumerate(shown)))}
        late = max(abs(times[s] - t0 - k / rate) for s, k in first.items())
        assert late <= half + 1e-6, f"a frame starts {late * 1000:.1f} ms off its time"
    onsets = beep_onsets(sound, sample_rate)
    expected = [b - t0 for b in BEEPS]
    assert len(onsets) == len(expected)
    for got, want in zip(onsets, expected):
        assert abs(got - want) <= half, f"a beep at {got:.3f} s, its frames at {want:.3f} s"


def test_file_lists_do_not_offer_links_pointing_out(server, bad):
    video = server.get("/object_info/DreamActorLoadVideo")["DreamActorLoadVideo"]["input"]["required"]["video"]
    motion = server.get("/object_info/DreamActorLoadMotion")["DreamActorLoadMotion"]["input"]["required"]["file"]
    videos, motions = (spec[1]["options"] if spec[0] == "COMBO" else spec[0] for spec in (video, motion))
    assert "hostile_tiny.mp4" in videos and "hostile_link.mp4" not in videos
    assert "hostile_good.motion.npz" in motions and "hostile_link.motion.npz" not in motions
