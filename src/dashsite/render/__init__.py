"""Render: the Jinja2 environment, and a template plus collected data → HTML."""
