"""Tools: run a TaskSpec on local models and return text or files.

    from unison_agent.tools import ModelPool, load_profile, run

    result = run(spec, profile=load_profile("tiny"), pool=ModelPool(), out_dir="out")

Executors: ``understanding.py`` (the three understanding tasks) and ``generation.py`` (the nine generation
tasks, one builder of VACE inputs per task family). ``frames.py`` reads attachments, ``control.py`` makes
control maps without weights, ``outputs.py`` writes PNG/MP4 atomically, ``profiles.py`` reads profiles and
``pool.py`` loads each model once, ``tiny.py`` builds the ``tiny`` profile's random-weight models and
``backends/`` holds every torch/diffusers/transformers import. Importing this package imports no torch.
"""

from unison_agent.errors import (
    InputError,
    MissingDependencyError,
    ModelUnavailableError,
    ProfileError,
    RunCancelled,
    ToolError,
)
from unison_agent.tools.pool import ModelPool
from unison_agent.tools.profiles import Profile, load_profile
from unison_agent.tools.results import Artifact, Progress, ProgressEvent, RunResult
from unison_agent.tools.run import run

__all__ = [
    "Artifact",
    "InputError",
    "MissingDependencyError",
    "ModelPool",
    "ModelUnavailableError",
    "Profile",
    "ProfileError",
    "Progress",
    "ProgressEvent",
    "RunCancelled",
    "RunResult",
    "ToolError",
    "load_profile",
    "run",
]
