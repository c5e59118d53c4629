"""The workspace: a Starlette application over the same store and rules as the
command line (``veille web``). :func:`veille.web.app.create_app` builds it,
:func:`veille.web.server.serve` serves it."""
