"""``python -m ragsilo``: the same command line as ``ragsilo``."""

from ragsilo.cli.main import main

if __name__ == "__main__":
    main()
