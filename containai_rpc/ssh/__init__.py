"""SSH access to workspace containers: ports, keys, host config, known_hosts."""
