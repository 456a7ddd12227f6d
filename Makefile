# Convenience targets; the README's two commands are the scripts themselves.
.PHONY: setup demo test package sample clean

setup:
	bash scripts/setup.sh

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

package:
	bash scripts/package.sh

sample:
	.venv/bin/python scripts/make_sample.py

clean:
	rm -rf build dist .pytest_cache .ruff_cache .qgis-settings test-artifacts
