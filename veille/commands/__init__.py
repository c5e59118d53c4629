"""One module per group of ``veille`` commands, imported only when its command runs
(so that ``veille --help`` and ``veille check`` start fast)."""
