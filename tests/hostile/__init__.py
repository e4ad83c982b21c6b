"""Hostile-input catalog: cases (cases.py) run in one forking worker (worker.py), measured per case."""
