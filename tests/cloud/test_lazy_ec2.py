"""moto's SSM is imported without EC2 in the cloud process; EC2 still loads when really used."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import sys
from stagewise.cloud import lazy_ec2
lazy_ec2.import_ssm_without_ec2()
assert "moto.ssm.models" in sys.modules
assert "moto.ec2.models" not in sys.modules, "EC2 was imported with SSM"
import moto.ssm.models as ssm
backend = ssm.ec2_backends["123456789012"]["us-east-1"]  # Run Command's only use of EC2
assert type(backend).__name__ == "EC2Backend"
import moto.ec2
assert moto.ec2.ec2_backends["123456789012"]["us-east-1"] is backend
print("ok")
"""


def test_ssm_imports_without_ec2_and_ec2_loads_on_first_use() -> None:
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
