from attune_schemas.export import main

main()
