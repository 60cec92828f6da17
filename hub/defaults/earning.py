"""The built-in base spend rule: the program's earn rate on the order's earning base.

An ordinary plugin (``trylast``): a plugin that wants a different base rule
blocks this one (``HUB_DISABLE_PLUGINS=hub.defaults.earning``) and returns its
own ``base`` award.
"""

from __future__ import annotations

from hub.markers import hookimpl
from hub.points.earning import Award
from hub.points.program import format_amount


@hookimpl(trylast=True)
def points_for_order(order, program):
    """Award ``base``: earn rate times earning base, rounded as the program says."""
    base = program.earning_base(order)
    points = program.points_for(base)
    unit = "point" if program.earn_points == 1 else "points"
    note = (
        f"{format_amount(base)} {program.currency} at {program.earn_points} {unit} per "
        f"{format_amount(program.earn_amount)} {program.currency} "
        f"({program.rounding.replace('_', ' ')})"
    )
    return [Award(points=points, rule="base", note=note)]
