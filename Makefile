# The two commands of the README: `make run` and `make test`. Each builds .venv from
# nothing when needed (only Python 3.11+ and make are assumed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench screenshots clean demo i18n

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "funnel-tui needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/funnel --demo tui

demo: $(STAMP)
	$(BIN)/funnel --demo demo --reset

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

# Extract the translatable strings, update the zh_CN catalog (.po) and compile it (.mo);
# both are committed. See funnel_tui/locale/GLOSSARY.md for the words to use.
i18n: $(STAMP)
	$(BIN)/python tools/i18n.py

screenshots: $(STAMP)
	$(BIN)/python -m funnel_tui.tui.screenshots screenshots

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
