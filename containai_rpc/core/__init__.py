"""Pure domain rules (names, ages, uptime): no I/O, so every rule is cheap to test exactly."""
