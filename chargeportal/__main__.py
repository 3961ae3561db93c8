"""``python -m chargeportal``."""

from chargeportal.cli import main

main()
