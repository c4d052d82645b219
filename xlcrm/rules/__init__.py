"""Policy rules as pure functions over a normalised submission.

Each module registers its functions with ``xlcrm.registry.rule``; importing this package
registers them all. Rules never import the CLI, rendering, file IO or xlwings.
"""

from xlcrm.rules import (  # noqa: F401
    admission,
    blacklist,
    complaints,
    credit,
    discounts,
    expenses,
    reference,
    revenue,
    tiers,
    visits,
)
