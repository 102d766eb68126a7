"""The store: every file of a site's state, written atomically and read back validated.

It sits above the render types because a version's ``data.json`` holds them.
"""
