"""Render types: values a collector returns that know how to draw themselves.

``RenderType`` subclasses register themselves (plugins register theirs through the
``dashsite.render_types`` entry point group); serialising, the template globals and
the API reference all read that one registry.
"""
