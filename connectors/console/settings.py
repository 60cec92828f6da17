"""What a merchant may set on a ``console`` connection: ``price`` only.

Where the messages are written is the operator's choice
(``HUB_PLUGINS_CONFIG["console"]["directory"]``), never a setting.
"""

from __future__ import annotations

from hub import GatewaySettingsSchema


class ConsoleSettingsSchema(GatewaySettingsSchema):
    """No settings of its own: a file path here would let a merchant write any file."""
