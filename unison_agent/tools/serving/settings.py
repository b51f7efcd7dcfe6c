"""Where specs run: the profile's ``executor`` key (``local``, ``ray``, ``ray://HOST:PORT``) and its ``[ray]`` table
(one ``[ray.deployments.<model key>]`` table per model entry). Imports no Ray.

``ray://HOST:PORT`` names a cluster by its head's GCS address (``ray start --head --port PORT``): the front door
joins it as a driver, so it must reach the cluster's machines. It is not Ray Client (whose ``ray://`` addresses
name a client server, port 10001): with Ray 2.60 and this project's gRPC, Ray Client's server aborted at the first
connection (a gRPC check failure after fork; measured 2026-12-02), so it is not offered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from unison_agent.errors import ProfileError

__all__ = ["EXECUTOR_FORMS", "DeploymentSettings", "ExecutorChoice", "RaySettings", "parse_executor"]

EXECUTOR_FORMS = "local, ray, or ray://HOST:PORT (the GCS address of a cluster's head, e.g. ray://10.0.0.5:6379)"


@dataclass(frozen=True)
class ExecutorChoice:
    """A parsed executor: ``kind`` local or ray; ``address`` None for ``ray`` (the cluster this machine is part of,
    ``$RAY_ADDRESS`` if set, else a new one started for this process) or ``HOST:PORT``, a head's GCS address."""

    kind: Literal["local", "ray"]
    address: str | None = None

    def __str__(self) -> str:
        if self.kind == "local" or self.address is None:
            return self.kind
        return f"ray://{self.address}"


def parse_executor(text: str) -> ExecutorChoice:
    """``local``, ``ray`` or ``ray://HOST:PORT`` (also written ``ray:HOST:PORT``) as an :class:`ExecutorChoice`.

    Raises :class:`ProfileError` naming the value and the allowed forms."""
    value = text.strip()
    if value == "local":
        return ExecutorChoice("local")
    if value == "ray":
        return ExecutorChoice("ray")
    if value.startswith("ray://") and len(value) > len("ray://"):
        return ExecutorChoice("ray", value.removeprefix("ray://"))
    if value.startswith("ray:") and not value.startswith("ray:/") and len(value) > len("ray:"):
        return ExecutorChoice("ray", value.removeprefix("ray:"))
    raise ProfileError(f"unknown executor {text!r}; allowed: {EXECUTOR_FORMS}")


class DeploymentSettings(BaseModel):
    """How one model entry is deployed on Ray Serve (``[ray.deployments.<model key>]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_gpus: float | Literal["auto"] = Field(
        default="auto",
        description="GPUs per replica (fractions share a GPU). auto: none on a cluster without GPUs; otherwise 1 "
        "for generation (0.5 when the cluster has a single GPU), 0.5 for understanding (0.25 on a single GPU) and "
        "0.1 for an extractor",
    )
    num_cpus: float = Field(default=1.0, ge=0, description="CPUs per replica (for scheduling)")
    min_replicas: int = Field(default=1, ge=1, description="replicas kept running, even when idle")
    max_replicas: int = Field(
        default=1, ge=1, description="replicas at most; more than min_replicas turns on autoscaling"
    )
    target_ongoing_requests: float = Field(
        default=1.0, gt=0, description="autoscaling: the requests per replica (running and queued) it aims for"
    )
    max_ongoing_requests: int | None = Field(
        default=None,
        ge=1,
        description="requests a replica takes at once; the rest wait in Serve's queue. Default: 1 for generation "
        "and understanding (one run holds the model), 4 for an extractor",
    )

    @model_validator(mode="after")
    def _replica_range(self) -> DeploymentSettings:
        if self.max_replicas < self.min_replicas:
            raise ValueError(f"max_replicas ({self.max_replicas}) is below min_replicas ({self.min_replicas})")
        if isinstance(self.num_gpus, float | int) and self.num_gpus < 0:
            raise ValueError(f"num_gpus must be >= 0 or 'auto', not {self.num_gpus}")
        return self


class RaySettings(BaseModel):
    """The profile's ``[ray]`` table: how its models are served on a Ray cluster."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    app: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="the Serve application's name; default unison-<profile>-<8 hex digits of the profile's "
        "contents>, so a changed profile is deployed beside the old one instead of answering with stale models",
    )
    files: Literal["bytes", "shared"] = Field(
        default="bytes",
        description="bytes: attachments are sent with each request (no shared disk needed); shared: replicas read "
        "them from the same path (a disk every node mounts at the same place). Outputs always come back as bytes",
    )
    concurrency: int = Field(
        default=8, ge=1, le=256, description="runs one front door sends to the cluster at once (the rest wait in line)"
    )
    deploy_timeout_s: float = Field(
        default=900.0, gt=0, description="seconds to wait for every replica to load its model when deploying"
    )
    deployments: dict[str, DeploymentSettings] = Field(
        default_factory=dict, description="per model entry (the [models] keys); entries not named get the defaults"
    )

    def deployment(self, key: str) -> DeploymentSettings:
        """The settings of model entry ``key`` (the defaults when the profile names none)."""
        return self.deployments.get(key) or DeploymentSettings()
