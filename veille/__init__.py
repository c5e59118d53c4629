"""veille — the Cégep de Drummondville's *mécanisme de veille*.

Finds where the college's name appears on the public web and emails the
communications service a French digest every morning.
"""

from __future__ import annotations

__version__ = "0.1.0"
