# ComfyUI-DreamActor: every target does its own set-up on a fresh machine.
PY      := .venv/bin/python
RUFF    := .venv/bin/ruff
PORT    ?= 8188
STAMP   := .host/.setup-done

.PHONY: setup serve lint test test-unit test-host test-browser test-js demo workflows bench check-requirements clean

$(STAMP): scripts/harness/setup.sh constraints.txt requirements.txt requirements-dev.txt tests/browser/package.json
	bash scripts/harness/setup.sh

setup: $(STAMP)  ## venv (torch pinned), ComfyUI 0.3.75 host, pack linked, chromium + playwright-core

serve: $(STAMP)  ## real ComfyUI on 127.0.0.1:$(PORT) with the pack, foreground
	PORT=$(PORT) $(PY) -m scripts.harness.comfy_server

lint: $(STAMP)  ## ruff (lint, format check) and the import contracts (pyproject.toml)
	$(RUFF) check .
	$(RUFF) format --check .
	$(PY) -m scripts.harness.lint_imports

test: $(STAMP)  ## all tests: unit, JS, host (real server), browser (real frontend)
	$(PY) -m scripts.harness.fetch_media > /dev/null
	$(PY) -m pytest tests -q -ra
	@if ls tests/js/*.test.mjs >/dev/null 2>&1; then node --test tests/js/; fi

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit -q -ra

test-host: $(STAMP)
	$(PY) -m pytest tests/host -q -ra

test-browser: $(STAMP)
	$(PY) -m pytest tests/browser -q -ra

demo: $(STAMP)  ## workflows/guidance_preview.json on real sample media through the server's HTTP API
	$(PY) -m scripts.demo.run_demo

workflows: $(STAMP)  ## rewrite workflows/*.json from scripts/workflows/workflow_specs.py against the live node definitions
	$(PY) -m scripts.workflows.build_workflows

check-requirements: $(STAMP)  ## requirements.txt resolves with numpy 2 on CPython 3.10-3.13 x Linux/Windows/macOS arm64 (PyPI; ~80 s, so CI runs it beside make test)
	$(PY) -m scripts.harness.check_requirements

bench: $(STAMP)  ## benchmarks: print figures and ratios measured side by side
	@for b in benchmarks/bench_*.py; do m=$$(basename $$b .py); echo "== $$m"; $(PY) -m benchmarks.$$m || exit 1; done

clean:  ## remove the host, the venv and caches (media is re-fetched on demand)
	rm -rf .venv .host .cache tests/artifacts tests/browser/node_modules
