"""The local ingestion service: a stand-in for Edge Impulse's Ingestion API, with a dashboard.
`python -m service` (what `make serve` runs) starts it; see service/mock_server.py."""
