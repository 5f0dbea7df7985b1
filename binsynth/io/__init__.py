"""Writing files: atomic commits, audio codecs, sidecars."""
