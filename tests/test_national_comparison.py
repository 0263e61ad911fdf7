"""Notebook 07 on a real area: the force among its similar forces, and its rates beside them from a national
dataset read out of core (here the shared forces' police.uk files, ingested into a temporary Parquet dataset)."""

from pathlib import Path

import nbformat
import pytest

from victimneeds.build import NOTEBOOKS_DIR
from victimneeds.report import read_table

CONFIG = Path(__file__).resolve().parents[1] / "data" / "areas" / "leicestershire.toml"


@pytest.mark.realdata
def test_national_comparison_runs_on_a_real_area(shared_data, tmp_path):
    import papermill as pm

    from victimneeds import national

    dataset = tmp_path / "national"
    national.ingest([shared_data / "policeuk" / "leicestershire", shared_data / "policeuk" / "avon-and-somerset"],
                    dataset, progress=False)
    out = tmp_path / "pack"
    executed = tmp_path / "07.ipynb"
    pm.execute_notebook(str(NOTEBOOKS_DIR / "07_national_comparison.ipynb"), str(executed),
                        parameters={"area": str(CONFIG), "out_dir": str(out), "national_dir": str(dataset)},
                        cwd=str(NOTEBOOKS_DIR), progress_bar=False)
    similar = read_table(out / "tables" / "07_similar_forces.csv")
    assert similar["pfa_name"].iloc[0] == "Leicestershire" and len(similar) == 8
    rates = read_table(out / "tables" / "07_rates_beside_similar_forces.csv")
    # Leicestershire's violence in the first 12-month period (December 2019 to November 2020), counted by hand from
    # the same files with read_policeuk, equals the published count
    from victimneeds.io.policeuk import read_policeuk

    crimes, _ = read_policeuk(shared_data / "policeuk" / "leicestershire", months=("2019-12", "2020-11"),
                              cache_dir=False)
    violence = int((crimes["crime_type"] == "Violence and sexual offences").sum())
    row = rates[(rates["crime_group"] == "Violence") & (rates["year"] == 2019)].iloc[0]
    assert int(row["count"]) == violence
    assert (out / "figures" / "07_funnel.png").exists()
    node = nbformat.read(executed, as_version=4)
    said = [o["metadata"]["victimneeds"]["text"] for c in node.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("metadata", {}).get("victimneeds", {}).get("kind") == "say"]
    assert any("Nottinghamshire" in s for s in said) and any("only 2 forces" in s for s in said)
