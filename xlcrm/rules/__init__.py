"""Policy rules as pure functions over a normalised submission.

Each module registers its functions with ``xlcrm.registry.rule``; importing this package
registers them all. Rules never import the CLI, rendering, file IO or xlwings.
"""

from xlcrm.rules import admission, blacklist, credit, reference, tiers  # noqa: F401
