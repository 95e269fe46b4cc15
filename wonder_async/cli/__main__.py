"""``python -m wonder_async.cli``: the same as the ``wonder`` console script."""

from . import main

raise SystemExit(main())
