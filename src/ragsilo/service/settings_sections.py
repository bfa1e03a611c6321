"""Where the ``service`` and ``llm`` settings sections used to live.

They are :mod:`ragsilo.settings_sections` now, below the service, so that the
settings and the answerers need not import this package. This module keeps
older imports working.
"""

from ragsilo.settings_sections import LlmSettings, ServiceSettings

__all__ = ["LlmSettings", "ServiceSettings"]
