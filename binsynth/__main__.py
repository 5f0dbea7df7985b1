"""``python -m binsynth``: the same CLI as the ``binsynth`` command (where no script is installed)."""

from binsynth.cli import main

main()
