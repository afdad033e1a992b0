"""Run every benchmark in this folder, one after another, in fresh processes."""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = (
    "bench_psi",
    "bench_fairness",
    "bench_shap",
    "bench_demo",
    "bench_assessment",
    "bench_pages",
    "bench_audit",
)


def main() -> int:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    failed = []
    for name in ORDER:
        print(f"\n===== {name} =====", flush=True)
        if subprocess.run(
            [sys.executable, str(HERE / f"{name}.py")], env=env, check=False
        ).returncode:
            failed.append(name)
    print(
        f"\n{len(ORDER) - len(failed)} benchmarks ran; failed: {', '.join(failed) or 'none'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
