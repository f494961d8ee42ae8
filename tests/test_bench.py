"""The bench command runs (on a tiny configuration: benchmarks are not timed tests), and notebook 06's LSTM
variants all compute what torch.nn.LSTM computes."""

import re

from grader.bench import bench, execute, text


def test_bench_runs_on_a_tiny_configuration_and_writes_its_tables(tmp_path):
    report = bench(tmp_path / "bench.md", tiny=True)
    assert (tmp_path / "bench.md").read_text().strip() == report.strip()
    assert "Machine: " in report and ("no GPU" in report or "NVIDIA" in report)
    assert re.search(r"\| 06_lstm_speed \| nan \| \d+ \|", report)
    assert re.search(r"\| landlock \| [\d.]+ / [\d.]+ \| [\d.]+ / [\d.]+ \|", report), report  # every machine has it
    for workers in (1, 2):  # 3 reference notebooks 01, graded serially and with 2 workers, cold and warm
        for start in ("cold", "warm"):
            assert re.search(rf"\| {workers} \| {start} \| 3 \| \d+ \| [\d.]+ \| [\d.]+x \| [\d.]+ / [\d.]+ \| "
                             r"(yes|\*\*no\*\*) \| \d+ \| yes \|", report), report
            assert re.search(rf"\| {workers} \| {start} \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| -?[\d.]+ \|", report)
    assert re.search(r"\| 1 \| plain `nbgrader autograde` \| 3 \| \d+ \| [\d.]+ \| this grader warm", report), report
    for variant in ("textbook: 8 products per step", "fused: 2 products per step",
                    "input projections first: 1 per step", "torch.nn.LSTM"):
        assert re.search(rf"\| {re.escape(variant)} \| [\d.]+ \| [\d.]+ \|", report), variant


def test_every_lstm_variant_of_notebook_06_computes_what_nn_lstm_computes():
    out = text(execute("06_lstm_speed", grading=True))
    assert out.count("same outputs") == 3 and "DIFFERENT" not in out, out
