"""CLI sub-commands; each module declares options and forwards to the library."""
