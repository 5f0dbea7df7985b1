"""CLI sub-commands; each module declares options and forwards to the library.

The top of the layout: may import every package, inside the command (heavy imports such as
torch happen only when a command runs). Nothing in the library imports a command.
"""
