"""``python -m sanet_video``: see :mod:`sanet_video.cli` (via :mod:`sanet_video.console`, which checks the environment)."""

from .console import main

raise SystemExit(main())
