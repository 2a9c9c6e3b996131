"""Soak: nothing is lost and nothing is stored twice on a bad network, whatever the power does
(tools/soak.py runs it; `make soak` runs it larger)."""
from tools.soak import soak


def test_soak_300_samples_at_30_percent_faults_with_10_kills(tmp_path):
    figures = soak(tmp_path, samples=300, rate=0.3, kills=10, seed=1, log=lambda *_: None)
    print(figures)
    assert figures["kills"] == 10 and figures["stored"] == 300
    assert figures["faults"] > 0
