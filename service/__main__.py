from service.mock_server import main

main()
