"""Deployment files generated from the roles table (`runtime/roles.py`).

`gateway` builds Traefik's configuration (the file provider's dynamic configuration and
the Docker provider's labels, from one description), `commands` the command line and
health check of each role, `compose` the Docker Compose file and Prometheus' scrape
configuration, and `generate` writes the committed files under `deploy/` (`make
deploy-config`) or reports which ones are stale. Nothing here imports a domain.
"""
