"""Test and benchmark support shared by ``tests/`` and ``bench/`` (not shipped in the wheel).

Importable from the repository root: pytest puts the root on ``sys.path`` (``pythonpath`` in
pyproject.toml) and the benchmarks run as ``python -m bench.<script>`` from the root.
"""
