"""The MCP server over the same tools: ``create_server()`` (FastMCP), run by ``unison mcp``."""
