"""Allow `python -m udpscope`."""

from udpscope.cli.main import main

raise SystemExit(main())
