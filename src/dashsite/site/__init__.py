"""The site: the build's stages and the pages and files it outputs."""
