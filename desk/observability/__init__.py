"""Operations: Prometheus metrics and structured logs. Imports nothing of desk's; any layer may import it."""
