from xanes_core.cli import main

raise SystemExit(main())
