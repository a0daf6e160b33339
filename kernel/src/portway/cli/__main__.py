"""``python -m portway.cli``."""

from portway.cli import main

main()
