"""``python -m sanet_video``: see :mod:`sanet_video.cli`."""

from .cli import main

raise SystemExit(main())
