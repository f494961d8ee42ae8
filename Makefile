# Shortcuts; each target is also written out in the README for machines without make.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: venv demo test test-all lint release check lab bench
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

demo: venv          ## the main job: grade the bundled sample class
	$(PY) -m grader demo

test: venv          ## the test suite (what .ci/run calls)
	$(PY) -m pytest

test-all: venv      ## also the slow full-mode notebook runs
	$(PY) -m pytest -m "slow or not slow"

bench: venv         ## time notebooks, grading and the LSTM variants; writes build/bench.md
	$(PY) -m grader bench

release: venv       ## regenerate notebooks/ from solutions/
	$(PY) -m grader release

lab: venv           ## JupyterLab for learners, nbgrader's Validate button on
	$(PY) -m grader lab
