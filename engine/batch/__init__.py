"""Many households at once: see `runner`."""
