"""`python -m containai_rpc` is `containai-rpc` (the stdio server unless told otherwise)."""

from containai_rpc.server.entry import main

main()
