"""Allow ``python -m xlcrm``."""

from xlcrm.cli import main

main()
