"""Copy the front-end assets that npm installed into static/vendor/.

Run after `npm ci` (make install does both). Standard library only, so it runs
before or without the project's virtualenv. The paths written here are the ones
the templates use; docs/assets.md lists them. Nothing is fetched from the
network: this only copies files out of node_modules/.

    python3 scripts/vendor_assets.py            # copy
    python3 scripts/vendor_assets.py --check    # only verify static/vendor/ is complete
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"
STAMP = VENDOR / ".vendored"

# package -> (destination folder under static/vendor, [(source, destination name)])
# A source ending in "/" is a folder copied whole. Source maps are copied because
# the minified files name them, and collectstatic's manifest storage fails on a
# reference to a missing file.
ASSETS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "bootstrap": (
        "bootstrap",
        [
            ("dist/css/bootstrap.min.css", "bootstrap.min.css"),
            ("dist/css/bootstrap.min.css.map", "bootstrap.min.css.map"),
            ("dist/js/bootstrap.bundle.min.js", "bootstrap.bundle.min.js"),
            ("dist/js/bootstrap.bundle.min.js.map", "bootstrap.bundle.min.js.map"),
            ("LICENSE", "LICENSE"),
        ],
    ),
    # Popper is compiled into bootstrap.bundle.min.js; its licence travels with it.
    "@popperjs/core": ("bootstrap", [("LICENSE.md", "LICENSE-popper.md")]),
    "bootstrap-icons": (
        "bootstrap-icons",
        [
            ("font/bootstrap-icons.min.css", "bootstrap-icons.min.css"),
            ("font/fonts/", "fonts"),
            ("LICENSE", "LICENSE"),
        ],
    ),
    "htmx.org": (
        "htmx",
        [
            ("dist/htmx.min.js", "htmx.min.js"),
            ("LICENSE", "LICENSE"),
        ],
    ),
    "chart.js": (
        "chartjs",
        [
            ("dist/chart.umd.min.js", "chart.umd.min.js"),
            ("dist/chart.umd.min.js.map", "chart.umd.min.js.map"),
            ("LICENSE.md", "LICENSE.md"),
        ],
    ),
    # @kurkle/color is compiled into chart.umd.min.js; its licence travels with it.
    "@kurkle/color": ("chartjs", [("LICENSE.md", "LICENSE-kurkle-color.md")]),
}


def fail(message: str) -> None:
    print(f"vendor_assets: {message}", file=sys.stderr)
    sys.exit(1)


def pinned_versions() -> dict[str, str]:
    """The exact versions package.json pins (the top-level packages only)."""
    data = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    return data.get("dependencies", {})


def installed_version(package: str) -> str:
    manifest = NODE_MODULES / package / "package.json"
    if not manifest.is_file():
        fail(f"{package} is not in node_modules/; run `npm ci` first (make install does).")
    return json.loads(manifest.read_text(encoding="utf-8"))["version"]


def targets() -> list[Path]:
    return [VENDOR / folder / name for folder, files in ASSETS.values() for _source, name in files]


def check() -> int:
    missing = [path for path in targets() if not path.exists()]
    for path in missing:
        print(f"missing: {path.relative_to(ROOT)}", file=sys.stderr)
    if missing:
        print("run `make install` to vendor the front-end assets", file=sys.stderr)
        return 1
    print(f"static/vendor/ is complete ({len(targets())} entries)")
    return 0


def vendor() -> int:
    pins = pinned_versions()
    versions: dict[str, str] = {}
    for package in ASSETS:
        version = installed_version(package)
        pin = pins.get(package)
        if pin is not None and pin != version:
            fail(
                f"node_modules has {package} {version} but package.json pins {pin}; "
                "run `npm ci` (make install does)."
            )
        versions[package] = version

    # Start from an empty folder so that files of an older version never linger.
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    for package, (folder, files) in ASSETS.items():
        destination = VENDOR / folder
        destination.mkdir(parents=True, exist_ok=True)
        for source, name in files:
            src = NODE_MODULES / package / source
            if source.endswith("/"):
                if not src.is_dir():
                    fail(f"{package} {versions[package]} has no folder {source}")
                shutil.copytree(src, destination / name)
            else:
                if not src.is_file():
                    fail(f"{package} {versions[package]} has no file {source}")
                shutil.copy2(src, destination / name)

    STAMP.write_text(
        "".join(f"{package} {version}\n" for package, version in sorted(versions.items())),
        encoding="utf-8",
    )
    for package, version in sorted(versions.items()):
        print(f"vendored {package} {version}")
    print(f"into {VENDOR.relative_to(ROOT)}/")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="verify static/vendor/ only, copy nothing"
    )
    args = parser.parse_args()
    return check() if args.check else vendor()


if __name__ == "__main__":
    sys.exit(main())
