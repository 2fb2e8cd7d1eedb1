"""Member chunks on dask.distributed give the same Dataset as the in-process run."""

from __future__ import annotations

import distributed  # noqa: E402  (in the test extra)
import pytest
import xarray as xr

from hydro.services import scenarios as C  # noqa: E402


def test_local_cluster_run_is_identical_to_in_process(config):
    ctx = C.context(config, "ural-2024-style")
    net, sc, clim = config.network, ctx.scenario, ctx.climatology
    in_process = C.run_ensemble(net, sc, clim, "default", members=7, chunk_members=7, dask=False)
    seen = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = C.run_ensemble(net, sc, clim, "default", members=7, chunk_members=3,
                                 dask=client, progress=lambda done, total: seen.append(total))
        assert len(client.scheduler_info()["workers"]) == 2
    assert seen == [3, 3, 3]
    xr.testing.assert_identical(in_process, on_dask)
    # a different chunking in process changes nothing either
    xr.testing.assert_identical(
        in_process, C.run_ensemble(net, sc, clim, "default", members=7, chunk_members=2))


@pytest.mark.slow
def test_cli_dask_flag_runs_on_a_local_cluster_of_processes(tmp_path, capsys):
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default=str(Path(__file__).resolve().parents[2] / "config"))
    from hydro.cli.scenario import add_commands

    add_commands(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "run.nc"
    args = parser.parse_args(["scenario", "run", "ural-2024-style", "--members", "4",
                              "--chunk", "2", "--dask", "--out", str(out)])
    assert args.func(args) == 0
    assert "chunk 2/2" in capsys.readouterr().err
    with xr.open_dataset(out) as ds:
        assert ds.sizes["member"] == 4
