"""`python -m oncallnova` is the same as the `oncallnova` command."""

from oncallnova.cli import main

main()
