from semot.cli import main

main()
