"""`python -m cli`: the same as the `moncompte` console script."""

from cli.app import run

run()
