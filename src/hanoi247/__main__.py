from hanoi247.entrypoints.cli import main

main()
