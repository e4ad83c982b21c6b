"""`python -m provision` entry point."""
from provision.cli import main

main()
