"""Rewrite docs/cli.md and docs/recipes.md from the parsers and schemas (tests fail when they are stale).

python scripts/gen_docs.py            # write both pages
python scripts/gen_docs.py --check    # exit 1 if either page differs from the code
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edgekp.commands.reference_docs import render_cli, render_recipes

DOCS = Path(__file__).resolve().parent.parent / "docs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    stale = []
    for name, text in (("cli.md", render_cli()), ("recipes.md", render_recipes())):
        path = DOCS / name
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    for name in stale:
        print(f"docs/{name} is stale: run python scripts/gen_docs.py")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
