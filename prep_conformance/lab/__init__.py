"""The reference lab: real nginx, Varnish (and sshd, DNS, other origins when their modules exist) on
loopback, one faulty-or-compliant difusor per scenario. See lab/README.md for the component interface.

    from prep_conformance.lab import Lab
    lab = Lab()                 # state in $PREP_LAB_DIR or /var/lib/prep-conformance/lab
    lab.up()                    # every scenario; lab.up(["compliant"]) for some
    lab.profile_path("compliant")
    lab.down()
"""

from .component import DOMAIN, Component, Context, LabError
from .expect import mismatches
from .manager import Lab, default_state_dir, load_components
from .scenario import CertSpec, Scenario, deep_merge, discover

__all__ = ["Lab", "Scenario", "CertSpec", "Component", "Context", "LabError", "DOMAIN", "discover",
           "deep_merge", "load_components", "default_state_dir", "mismatches"]
