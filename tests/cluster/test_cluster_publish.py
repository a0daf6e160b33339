"""One publish reaches every server of a real 3-server cluster; a broken one reaches none."""

from __future__ import annotations

from cluster_kit import Cluster, hello, until


def _publish(cluster: Cluster, files: dict[str, str], node: int = 0, **extra: object) -> tuple[int, object]:
    body = {"files": [{"path": p, "content": c} for p, c in files.items()], **extra}
    return cluster.nodes[node].handle.request("POST", "/admin/api/deploy/files", body)


def test_a_publish_through_the_admin_api_reaches_all_three_servers(cluster: Cluster) -> None:
    status, report = _publish(cluster, {"demo/hello.py": hello("v1")})
    assert status == 200, report
    assert report["added"] == ["demo/hello.py"]  # type: ignore[index]
    assert until(lambda: cluster.answers() == [{"from": "v1"}] * 3), cluster.answers()
    status, report = _publish(cluster, {"demo/hello.py": hello("v2")})
    assert report["updated"] == ["demo/hello.py"]  # type: ignore[index]
    assert until(lambda: cluster.answers() == [{"from": "v2"}] * 3), cluster.answers()
    status, report = _publish(cluster, {"demo/hello.py": hello("v2")})
    assert report["unchanged"] == ["demo/hello.py"]  # type: ignore[index]


def test_a_broken_file_is_refused_with_its_line_and_reaches_no_server(cluster: Cluster) -> None:
    assert _publish(cluster, {"hello.py": hello("v1")})[0] == 200
    assert until(lambda: cluster.answers() == [{"from": "v1"}] * 3)
    broken = hello("v2") + "\ndef broken(:\n"
    status, body = _publish(cluster, {"hello.py": broken, "other.py": hello("x", "x.y")})
    assert status == 400
    assert body["files"] == [  # type: ignore[index]
        {"path": "hello.py", "line": 10, "error": "SyntaxError: invalid syntax"}
    ], body
    raising = "raise RuntimeError('no database at import')\n"
    status, body = _publish(cluster, {"hello.py": raising})
    assert status == 400 and "RuntimeError: no database at import" in body["files"][0]["error"]  # type: ignore[index]
    assert cluster.answers() == [{"from": "v1"}] * 3
    assert all(n.answer("x.y") is None for n in cluster.nodes)  # the good file of the batch neither
    published = cluster.nodes[1].handle.request("GET", "/admin/api/deploy/files")[1]
    assert [f["path"] for f in published["files"]] == ["hello.py"]  # type: ignore[index]


def test_delete_undeploys_everywhere_and_delete_missing_syncs_the_tree(cluster: Cluster) -> None:
    _publish(cluster, {"a.py": hello("a", "t.a"), "b.py": hello("b", "t.b")})
    assert until(lambda: all(n.answer("t.b") == {"from": "b"} for n in cluster.nodes))
    _status, report = _publish(cluster, {}, delete=["a.py"])
    assert report["removed"] == ["a.py"], report  # type: ignore[index]
    assert until(lambda: all(n.answer("t.a") is None for n in cluster.nodes))
    _, report = _publish(cluster, {"c.py": hello("c", "t.c")}, delete_missing=True)
    assert report["added"] == ["c.py"] and report["removed"] == ["b.py"]  # type: ignore[index]
    assert until(lambda: all(n.answer("t.b") is None and n.answer("t.c") for n in cluster.nodes))


def test_a_server_started_after_a_publish_serves_it_on_its_first_request(cluster: Cluster) -> None:
    late = cluster.nodes[2]
    late.stop()
    _publish(cluster, {"hello.py": hello("while-you-were-out")})
    late.start()
    assert late.answer() == {"from": "while-you-were-out"}  # no waiting: caught up before serving


def test_rollback_on_one_server_rolls_back_all(cluster: Cluster) -> None:
    _publish(cluster, {"hello.py": hello("v1")})
    _publish(cluster, {"hello.py": hello("v2")})
    assert until(lambda: cluster.answers() == [{"from": "v2"}] * 3)
    status, body = cluster.nodes[1].handle.request("POST", "/admin/api/deploy/rollback/demo.hello")
    assert status == 200, body
    assert until(lambda: cluster.answers() == [{"from": "v1"}] * 3), cluster.answers()


def test_paths_outside_the_root_and_big_files_are_refused(cluster: Cluster) -> None:
    for path in ("../evil.py", "/etc/evil.py", "a/../../evil.py", "a\\b.py", ".hidden.py", "notes.txt", ""):
        status, body = _publish(cluster, {path: "x = 1\n"})
        assert status == 400, (path, body)
        assert body["files"][0]["path"] == path  # type: ignore[index]
    # Files over max_file_bytes: see test_cluster_ways_in (through the admin API, its 1 MiB body
    # limit answers 413 first, and may close the socket before a client has sent the body).
    assert cluster.nodes[0].handle.request("GET", "/admin/api/deploy/files")[1]["files"] == []  # type: ignore[index]


def test_cluster_status_lists_every_server_at_the_store_revision(cluster: Cluster) -> None:
    _publish(cluster, {"hello.py": hello("v1")})
    assert until(lambda: cluster.answers() == [{"from": "v1"}] * 3)

    def all_current() -> object:
        view = cluster.nodes[0].handle.request("GET", "/admin/api/cluster")[1]
        return len(view["servers"]) == 3 and all(s["ok"] for s in view["servers"]) and view  # type: ignore[index]

    view = until(all_current, 10)
    assert view, cluster.nodes[0].handle.request("GET", "/admin/api/cluster")[1]
    assert {s["code_revision"] for s in view["servers"]} == {view["code_revision"]}  # type: ignore[index]


def test_two_publishers_of_one_path_end_on_the_same_content_everywhere(cluster: Cluster) -> None:
    import threading

    results: list[int] = []

    def publisher(node: int, tag: str) -> None:
        for round_ in range(8):
            status, _ = _publish(cluster, {"hello.py": hello(f"{tag}{round_}")}, node)
            results.append(status)

    writers = [threading.Thread(target=publisher, args=(i, tag)) for i, tag in ((0, "a"), (2, "b"))]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert results == [200] * 16
    published = cluster.nodes[1].handle.request("GET", "/admin/api/deploy/files")[1]
    final = published["files"][0]["digest"]  # type: ignore[index]

    def same_everywhere() -> bool:
        answers = cluster.answers()
        return len({str(a) for a in answers}) == 1 and answers[0] is not None

    assert until(same_everywhere), cluster.answers()
    winner = cluster.answers()[0]["from"]
    from portway.codestore import digest_of

    assert digest_of(hello(winner).encode()) == final  # the store's last write is what all serve
