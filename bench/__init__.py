"""Benchmarks for funnel-tui (`python -m bench`, `make bench`); not part of `make test`.

Every figure is compared with a baseline measured in the same run, because absolute
times on a shared machine are noise (issue 6, DESIGN §8).
"""
