"""`python -m containai_rpc` starts the stdio server."""

from containai_rpc.server.app import main

main()
