"""The pipeline benchmark's account of where a probe's time goes."""

from __future__ import annotations

from attune_cli.pipeline_bench import HOPS, hop_latencies


def test_each_probe_s_time_is_split_into_its_hops_and_a_lost_probe_counts_in_none() -> None:
    sent = {"probe-1": 100.0, "probe-2": 200.0, "probe-lost": 300.0}
    written = [
        {"probe-1": 100.010, "probe-2": 200.020, "probe-lost": 300.010},  # first topic
        {"probe-1": 100.110, "probe-2": 200.070},  # the first stage's output
        {"probe-1": 100.130, "probe-2": 200.100},  # the second's
    ]
    arrived = {"probe-1": 100.500, "probe-2": 200.400}

    hops = hop_latencies(sent, written, arrived)

    assert len(hops) == len(written) + 1 == len(HOPS)
    assert [[round(ms) for ms in hop] for hop in hops] == [
        [10, 20],
        [100, 50],
        [20, 30],
        [370, 300],
    ]
