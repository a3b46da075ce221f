"""`python -m bench ARGS` from a udpscope source checkout (see bench/README.md)."""

from bench.cli import main

raise SystemExit(main())
