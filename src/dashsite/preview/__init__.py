"""The authoring loop: a preview build, a file watcher and a live-reload server."""
