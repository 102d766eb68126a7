"""Layer 7, the site: the build's stages and the pages and files it outputs."""
