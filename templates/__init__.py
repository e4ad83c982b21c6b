"""Jinja2 serving.properties templates (package data: *.j2), loaded by selector/render.py."""
