"""`python -m containai_rpc.cli` is `cai`."""

from containai_rpc.cli.main import main

main()
