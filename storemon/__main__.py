from storemon.cli import main

raise SystemExit(main())
