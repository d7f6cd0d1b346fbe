from ville.cli import main

main()
