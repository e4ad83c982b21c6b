"""Deployment planner for SageMaker LMI endpoints: pure Python, no AWS calls, no CDK.

`resolve(Request(model=...))` returns a Plan; `SelectorError` is the only error it raises on bad input.
"""
from selector.errors import SelectorError
from selector.plan import Plan
from selector.request import Request
from selector.resolve import resolve

__all__ = ["Plan", "Request", "SelectorError", "resolve"]
