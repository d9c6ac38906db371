from runbench.cli import main

raise SystemExit(main())
