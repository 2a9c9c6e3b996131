"""The tools a user runs beside the boards, each with `python -m tools.<name>` from the repo root:
drain, virtual_board, run_unix_board, fault_proxy, soak, bench. Not tests."""
