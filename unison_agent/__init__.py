"""unison-agent: one request plus attachments in, a validated plan and its result out.

``import unison_agent`` stays light: it never imports torch, diffusers or transformers.
"""

__version__ = "0.1.0"
