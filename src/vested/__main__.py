from vested.cli import main

main()
