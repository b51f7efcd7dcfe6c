"""Sessions: the artifact store (every input and output, with ids, files, facts and lineage) and the history of
steps with undo, redo and branches, persisted under a workspace folder; and resolution of follow-up references
("it", "the previous image", "the second one", "image 2", "@id") to stored artifacts.
"""

from unison_agent.sessions.references import Reference, find_references, resolve
from unison_agent.sessions.store import ArtifactRecord, ArtifactStore, ScriptMark, SessionInfo, Step, StoreError

__all__ = [
    "ArtifactRecord",
    "ArtifactStore",
    "Reference",
    "ScriptMark",
    "SessionInfo",
    "Step",
    "StoreError",
    "find_references",
    "resolve",
]
