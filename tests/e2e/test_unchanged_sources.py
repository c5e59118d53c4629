"""A visit that finds nothing new (304) is recorded as a success, though not one
transaction per source: a failing source that answers 304 again is well again."""

from __future__ import annotations

from tests.conftest import FeedServer, Workspace

ETAG = '"v1"'


def _state(workspace: Workspace) -> dict[str, tuple[object, ...]]:
    with workspace.connect() as db:
        rows = db.exec_driver_sql(
            "select name, consecutive_failures, last_error, etag, last_success_at,"
            " failing_since from sources"
        ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def test_a_failing_source_that_answers_304_is_well_again(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    feed_server.add_file("/express.xml", "express.xml", etag=ETAG)
    feed_server.add_file("/avis.xml", "latin1.xml", etag='"a1"', content_type="text/xml")
    workspace.write(
        [
            {"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")},
            {"name": "Avis", "type": "feed", "url": feed_server.url("/avis.xml")},
        ],
        at="23:59",
    )
    assert veille("run").code == 0
    first = _state(workspace)
    feed_server.add("/express.xml", b"", status=500)
    assert veille("run", "--all").code == 1
    failing = _state(workspace)["Journal"]
    assert failing[0] == 1 and failing[1] and failing[4] is not None

    feed_server.add_file("/express.xml", "express.xml", etag=ETAG)
    result = veille("run", "--all")

    assert result.code == 0, result.err
    assert [hit.status for hit in feed_server.hits_for("/express.xml")] == [200, 500, 304]
    assert [hit.status for hit in feed_server.hits_for("/avis.xml")] == [200, 304, 304]
    now = _state(workspace)
    for name in ("Journal", "Avis"):
        failures, error, etag, success, since = now[name]
        assert (failures, error, since) == (0, None, None)
        assert etag == first[name][2] and str(success) > str(first[name][3])
    with workspace.connect() as db:
        assert db.exec_driver_sql("select count(*) from items").fetchone()[0] > 0
