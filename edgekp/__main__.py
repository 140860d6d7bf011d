from edgekp.cli import main

raise SystemExit(main())
