"""Running specs on a Ray cluster (the ``ray`` executor): Ray Serve deployments built from a profile.

``settings.py`` is the profile's ``executor`` key and ``[ray]`` table (no Ray import), ``wire.py`` what crosses the
cluster (a spec with its attachments as bytes, the outputs back as encoded bytes, errors by name; no Ray import),
``deployments.py`` the Serve deployments (one per model entry, behind one gateway), ``client.py`` the
:class:`~unison_agent.tools.serving.client.RayExecutor` the front doors use and the ``unison serve`` helpers.
Only the last two import ``ray``; it comes with the ``ray`` extra (``pip install 'unison-agent[ray]'``).
"""

from unison_agent.tools.serving.settings import DeploymentSettings, ExecutorChoice, RaySettings, parse_executor

__all__ = ["DeploymentSettings", "ExecutorChoice", "RaySettings", "parse_executor"]
