"""What the side-by-side benchmark scripts share (imported by bench/compare_*.py)."""
import json
import subprocess


def run_json(cmd, env=None):
    """Runs one measurement process and returns the JSON object on the last line of its output."""
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])
