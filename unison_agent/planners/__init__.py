"""Planners by name, and the models behind the model-backed ones.

``choice.py`` turns a choice (``embedded``, ``llm:<provider>:<model>``, ``hybrid:<provider>:<model>``,
``unison:<path>``) into a planner and keeps the planners a host has made (:class:`~.choice.Planners`);
``chat_lm.py`` is the local transformers chat model of the ``transformers`` provider; ``unison_lm.py`` runs
Unison's own planner checkpoint. The planners themselves live in :mod:`unison_agent.planning`, which imports no
torch; this package is where model loading meets them. Importing it imports no torch either (the models load
on demand).
"""
