"""`python -m funnel_tui` is the `funnel` command."""

from funnel_tui.cli import main

raise SystemExit(main())
