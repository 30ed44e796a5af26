"""The MCP server: OnCallNova's incidents and on-call as tools for AI assistants.

One set of tools serves both transports: `oncallnova mcp` (stdio, for desktop
assistants) and `/mcp` on `serve` (streamable HTTP). The tools call the REST API through
a small typed client, so authorization, validation and the audit log are the API's own.
"""
