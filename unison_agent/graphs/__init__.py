"""LangGraph graphs built from the planner and the tools (``session.py``: one request of a session per run)."""
