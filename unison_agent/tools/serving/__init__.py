"""Running specs on a Ray cluster (the ``ray`` executor): Ray Serve deployments built from a profile.

``settings.py`` is the profile's ``executor`` key and ``[ray]`` table (no Ray import), ``wire.py`` what crosses the
cluster (a spec with its attachments as bytes, the outputs back as encoded bytes, errors by name; no Ray import),
``deployments.py`` the Serve deployments (one per model entry, behind one gateway), ``client.py`` the
:class:`~unison_agent.tools.serving.client.RayExecutor` the front doors use and the ``unison serve`` helpers.
Only the last two import ``ray``; it comes with the ``ray`` extra (``pip install 'unison-agent[ray]'``).
"""

import os
import sys
from pathlib import Path

from unison_agent.tools.serving.settings import DeploymentSettings, ExecutorChoice, RaySettings, parse_executor


def _ray_environment() -> None:
    """Ray's environment defaults, set here, before ``client.py`` or ``deployments.py`` import Ray (it reads them
    once); a value the user set is left alone.

    - No usage report from an offline or private cluster.
    - Ray 2.59+ starts a local cluster with token authentication (the token in ``~/.ray/auth_token``), but a
      driver that joins a cluster by its address sends no token unless ``RAY_AUTH_MODE=token``, and is refused
      ("InvalidAuthToken"; measured with Ray 2.60). So with the mode unset and a token at hand, it is sent; a
      cluster without authentication ignores it (also measured). A program that imported Ray before this package
      sets ``RAY_AUTH_MODE=token`` itself to join a cluster by address."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Only before Ray's first import: Ray reads the mode once, and a mode changed after that would start a new
    # local cluster that wants tokens from a driver that sends none (its own GCS refuses it).
    if "RAY_AUTH_MODE" not in os.environ and "ray" not in sys.modules:
        token_file = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token")
        if os.environ.get("RAY_AUTH_TOKEN") or token_file.is_file():
            os.environ["RAY_AUTH_MODE"] = "token"


_ray_environment()

__all__ = ["DeploymentSettings", "ExecutorChoice", "RaySettings", "parse_executor"]
