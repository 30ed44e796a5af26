"""Deployment drivers: what `deploy`, `build`, `down`, `restart`, `clean`, `logs`,
`scale` and `scale-down` run, with Docker Compose or the native process topology."""
