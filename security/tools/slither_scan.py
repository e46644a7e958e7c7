"""Runs slither on contracts/src and writes its findings as JSON.

Compiles through crytic-compile's standard-JSON platform with the project's solc (tools/solc,
which only speaks --standard-json) rather than through `forge build`: slither mis-resolves the
symbols of forge 1.x build-info files (0 results and "Failed to resolved name" errors), while a
single standard-JSON compilation of contracts/src resolves every symbol.

Usage: slither_scan.py CONTRACTS_DIR OUT_JSON
"""

import glob
import inspect
import json
import logging
import os
import sys

from crytic_compile import CryticCompile
from crytic_compile.platform.solc_standard_json import SolcStandardJson
from slither import Slither
from slither.detectors import all_detectors
from slither.detectors.abstract_detector import AbstractDetector


def main() -> int:
    contracts_dir, out_path = os.path.abspath(sys.argv[1]), sys.argv[2]
    logging.basicConfig(level=logging.ERROR)
    os.chdir(contracts_dir)
    sources = sorted(glob.glob("src/**/*.sol", recursive=True))
    standard_json = SolcStandardJson()
    standard_json.add_source_files(sources)
    # The same remapping and optimizer settings as foundry.toml.
    standard_json.add_remapping("@openzeppelin/contracts/=../node_modules/@openzeppelin/contracts/")
    compilation = CryticCompile(
        standard_json,
        solc=os.path.join(contracts_dir, "..", "tools", "solc"),
        solc_args="--optimize --optimize-runs 200",
    )
    slither = Slither(compilation, exclude_dependencies=True, filter_paths=["node_modules"])
    detectors = [
        cls
        for _, cls in inspect.getmembers(all_detectors, inspect.isclass)
        if issubclass(cls, AbstractDetector)
    ]
    for detector in detectors:
        slither.register_detector(detector)
    findings = [finding for per_detector in slither.run_detectors() for finding in per_detector]
    with open(out_path, "w", encoding="utf8") as out:
        recommendations = {d.ARGUMENT: " ".join(d.WIKI_RECOMMENDATION.split()) for d in detectors}
        json.dump({"sources": sources, "detectors": len(detectors), "results": findings,
                   "recommendations": recommendations}, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
