"""The MCP face: `containai-rpc --mcp` / `cai mcp`, a stdio Model Context Protocol server
(official `mcp` SDK) whose tools call the same `Service` as the JSON-RPC server."""
