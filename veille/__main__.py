from __future__ import annotations

from veille.cli import main

raise SystemExit(main())
