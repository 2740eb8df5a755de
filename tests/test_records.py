from synthloop.records import SCHEMA, Record, from_table, stable_id, to_table


def test_record_round_trips_through_parquet_schema() -> None:
    record = Record(
        id="a1",
        text="Tom ran.",
        words={"noun": "ball", "verb": "run"},
        features=["Dialogue"],
        params={"temperature": 0.3},
        scores={"vocab.oov_rate": 0.25},
        flags=["x.y"],
        meta={"missing": [], "nested": {"k": 1}},
        parent_id=None,
        seed=5,
    )
    table = to_table([record])
    assert table.schema == SCHEMA
    assert from_table(table) == [record]


def test_stable_id_depends_only_on_parts() -> None:
    assert stable_id("tinystories", 0, 1) == stable_id("tinystories", 0, 1)
    assert stable_id("tinystories", 0, 1) != stable_id("tinystories", 0, 2)
    assert len(stable_id("x")) == 16
