"""The host side of a workspace: its path, its git state and its saved state/config."""
