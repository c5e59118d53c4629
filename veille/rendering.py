"""The Jinja2 environment of veille's emails (``veille/templates/``), in French.

Templates ending in ``.html.j2`` are autoescaped (and so is any template made
from a string); the text templates are not. A variable missing from the
context is an error, never an empty string. Texts that came from the web are
cleaned (:mod:`veille.sanitize`) by the modules that build the context, before
the templates see them.
"""

from __future__ import annotations

from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

LOCALE = "fr_CA"


def number(value: int) -> str:
    """A count the French way: 100 000 (non-breaking space)."""
    return format_decimal(value, locale=LOCALE)


_env = Environment(
    loader=PackageLoader("veille", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters["number"] = number


def render(template: str, /, **context: object) -> str:
    """Render one of the package's templates (``"digest.html.j2"``) with ``context``."""
    return _env.get_template(template).render(context)
