"""Allow `python -m confhub`."""

from confhub.cli import main

main()
